"""The one-click examples, named after where they come from.

The three dual-search presets and the three example queries are those of the paper's public demo
(github migueldiaz1/mirage, frontend/src/App.jsx: DUAL_ARITHMETIC_EXAMPLES and MEDICAL_PROMPTS); the
paper's own figure of dual search is a different example, shown beside them.
"""

from __future__ import annotations

DEMO_PRESETS = [
    {"title": "Bone suppression", "q": "Chest X-Ray", "add": "Soft Tissue", "sub": "Bones"},
    {"title": "Infection highlight", "q": "Lungs X-Ray", "add": "Pneumonia", "sub": "Clear Lungs"},
    {
        "title": "Cardiac pacemaker",
        "q": "Chest X-ray",
        "add": "Pacemaker generator and leads",
        "sub": "No foreign bodies",
    },
]
PAPER_FIGURE = {
    "title": "RDS → meconium aspiration",
    "q": "Neonatal chest X-ray with ground-glass opacity consistent with RDS",
    "add": "meconium aspiration syndrome",
    "sub": "RDS",
}
DEMO_QUERIES = [
    {
        "title": "Glioblastoma multiforme",
        "q": "MRI of the brain showing a large necrotic glioblastoma in the frontal lobe with edema.",
    },
    {
        "title": "Liver metastasis",
        "q": "CT scan of the abdomen showing multiple hypodense metastatic lesions in the liver.",
    },
    {
        "title": "Pleural effusion",
        "q": "Chest radiograph showing blunting of the costophrenic angle indicating pleural effusion.",
    },
]
