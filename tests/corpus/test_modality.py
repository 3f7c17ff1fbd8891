"""Modality derivation: rules on made-up captions, and agreement with a reader on real ROCO captions."""

from __future__ import annotations

import pytest

from apps.corpus.modality import (
    ANGIOGRAPHY,
    CT,
    FLUOROSCOPY,
    MAMMOGRAPHY,
    MODALITIES,
    MRI,
    NUCLEAR,
    OTHER,
    RADIOGRAPH,
    ULTRASOUND,
    derive_modality,
)
from apps.corpus.records import EntryRecord
from apps.corpus.sources.roco import read_roco
from tests.roco_data import REAL_ROCO

ROCO_FOLDER = REAL_ROCO


@pytest.fixture(scope="module")
def roco_entries() -> dict[str, EntryRecord]:
    if not (ROCO_FOLDER / "captions.txt").is_file():
        pytest.skip(f"the shared ROCO validation/radiology metadata is not at {ROCO_FOLDER}")
    records, _ = read_roco(ROCO_FOLDER)
    return {r.external_id: r for r in records}


def modality_of(entry: EntryRecord) -> str:
    return derive_modality(entry.caption, entry.keywords, entry.semtypes)


@pytest.mark.parametrize(
    ("caption", "expected"),
    [
        ("Axial CT of the abdomen", CT),
        ("Contrast-enhanced computed tomography of the chest", CT),
        ("CBCT image of the mandible", CT),
        ("Axial T2-weighted image of the brain", MRI),
        ("FLAIR hyperintensity in the temporal lobe", MRI),
        ("Coronal fast spin echo image of the knee", MRI),
        ("MR image of the shoulder", MRI),
        ("Transthoracic echocardiography, apical view", ULTRASOUND),
        ("Colour Doppler of the carotid artery", ULTRASOUND),
        ("US of the liver shows a cyst", ULTRASOUND),
        ("Echo showed a pericardial effusion", ULTRASOUND),
        ("Chest X-ray on admission", RADIOGRAPH),
        ("Postoperative radiograph of the hip", RADIOGRAPH),
        ("Panoramic radiograph of the jaws", RADIOGRAPH),
        ("Barium swallow showing a stricture", FLUOROSCOPY),
        ("ERCP showing a dilated common bile duct", FLUOROSCOPY),
        ("Mammogram of the left breast", MAMMOGRAPHY),
        ("99mTc-MDP bone scintigraphy", NUCLEAR),
        ("DSA of the left carotid artery", ANGIOGRAPHY),
        ("Photograph of the skin lesion", OTHER),
    ],
)
def test_each_modality_is_recognised_by_its_usual_names(caption: str, expected: str) -> None:
    assert derive_modality(caption, [], []) == expected


@pytest.mark.parametrize(
    ("caption", "expected"),
    [
        # a named examination counts as one mention of the more specific modality
        ("CT angiography of the aorta", ANGIOGRAPHY),
        ("Computed tomography pulmonary angiography with a filling defect", ANGIOGRAPHY),
        ("PET/CT showing FDG uptake", NUCLEAR),
        ("Single photon emission computed tomography of the spine", NUCLEAR),
        ("MRCP showing a stone", MRI),
        ("CT urography: filling defect in the ureter", CT),
        ("Intraoperative cholangiogram", FLUOROSCOPY),
        # the first-named modality wins over one quoted for comparison
        ("Ultrasound shows the calcification seen on the mammogram", ULTRASOUND),
        ("Chest radiograph; the CT is shown in Figure 2", RADIOGRAPH),
        # look-alikes that name no modality
        ("Optical coherence tomography of the retina", OTHER),
        ("Fracture at the T2 level", OTHER),
        ("A cT2 tumour of the rectum", OTHER),
        ("Mr Smith let us see him again", OTHER),
    ],
)
def test_compound_names_and_look_alikes_follow_the_documented_precedence(caption: str, expected: str) -> None:
    assert derive_modality(caption, [], []) == expected


def test_findings_words_decide_only_when_no_modality_is_named() -> None:
    assert derive_modality("Hyperintense lesion in the pons", [], []) == MRI
    assert derive_modality("Hypoechoic nodule in the thyroid", [], []) == ULTRASOUND
    assert derive_modality("Hyperdense mass on the mammogram", [], []) == MAMMOGRAPHY


def test_keywords_are_used_when_the_caption_names_no_modality() -> None:
    # ROCO keywords are stemmed ("pelvi" for pelvis)
    assert derive_modality("Postoperative view of the pelvis", ["pelvi", "radiograph"], []) == RADIOGRAPH
    assert derive_modality("Axial CT of the pelvis", ["pelvi", "radiograph"], []) == CT


# Labelled by reading each caption (not by running derive_modality): a random sample of the
# validation/radiology captions, plus picks found by searching for the rarer modalities and for
# tricky wording. Captions that name no modality are labelled with what a reader can tell from them
# (e.g. ROCO_00130 describes a hysterosalpingogram without naming it), so a few are expected misses.
HAND_LABELS = {
    "ROCO_64750": CT,  # Chest computed tomography showing patchy bilateral parenchymal opac...
    "ROCO_67998": OTHER,  # External vision of the surgical field: one 10/12-mm umbilical port ...
    "ROCO_70764": ULTRASOUND,  # Video still of an apical 4-chamber view of the transthoracic echoca...
    "ROCO_27057": ANGIOGRAPHY,  # CTA examination showed occluded main PV (arrowhead) in a patient af...
    "ROCO_27064": MRI,  # Findings of abdominal magnetic resonance cholangiopancreatography (...
    "ROCO_00130": FLUOROSCOPY,  # A normal size uterine cavity with both fallopian tubes demonstrated...
    "ROCO_65022": FLUOROSCOPY,  # Patient underwent a definite Boari flap for the ureteroneocystostom...
    "ROCO_08812": OTHER,  # Extensive hemorrhage into sinus cavities.
    "ROCO_27107": MRI,  # Magnetic resonance imaging showing common extensor tendon lesion (a...
    "ROCO_00173": RADIOGRAPH,  # Satisfactory femoral neutral alignment was achieved if three points...
    "ROCO_71139": MRI,  # Magnetic resonance imaging scan taken 6 months after reinjection of...
    "ROCO_70868": RADIOGRAPH,  # Postoperative radiograph of internal fixator over fracture
    "ROCO_27185": ANGIOGRAPHY,  # Angiography of the right renal artrery dorsal branch provided befor...
    "ROCO_00187": ULTRASOUND,  # Endoscopic ultrasound findings. An approximately 1×1-cm heterogeneo...
    "ROCO_65338": FLUOROSCOPY,  # Barium swallow showing an oblique posterior indentation of the oeso...
    "ROCO_72753": RADIOGRAPH,  # Pre-operative X-ray showing normal lung fields.
    "ROCO_70900": CT,  # Neck CT showing thrombosis of the right internal jugular vein and s...
    "ROCO_27238": OTHER,  # — Dysmorphic profile with long upperlip
    "ROCO_27253": MRI,  # T2-weighted MR image of the lumbosacral sacral cord showed mild pro...
    "ROCO_00223": RADIOGRAPH,  # It shows the OPG with deformities in the mandible and partial anodo...
    "ROCO_65602": CT,  # Contrast-enhanced computed tomography at 3 months after the initiat...
    "ROCO_09004": CT,  # CT scan of the chest showing a large right pulmonary mass.
    "ROCO_27314": RADIOGRAPH,  # Right Hahn-Steinthal Type 1 capitellum fracture, preoperative obliq...
    "ROCO_27332": ANGIOGRAPHY,  # Coronal view with angio-MRI showing the typical "saltpepper" patter...
    "ROCO_00256": ULTRASOUND,  # Post void TAU image of the cervix with the empty bladder alleviates...
    "ROCO_65820": ANGIOGRAPHY,  # Coronary angiography with normal coronary angiographic findings.
    "ROCO_75512": RADIOGRAPH,  # A chest radiograph on 2-month-old following cardiac surgery. A diff...
    "ROCO_70990": OTHER,  # Anterior Segment Optical Coherence Tomography.Corneal thickness bet...
    "ROCO_27359": CT,  # CT scan of the chest. Axial view at the level of the aortic arch sh...
    "ROCO_00353": CT,  # Axial CT image. Axial CT image at T10 indicating the atrophy of ver...
    "ROCO_66048": ANGIOGRAPHY,  # Mid-phase fundus fluorescein angiography of the left eye shows veno...
    "ROCO_76868": CT,  # Subsequent high‐resolution computed tomography (HRCT) showed extens...
    "ROCO_71087": MRI,  # Magnetic resonance imaging brain, contrast enhanced scan saggital s...
    "ROCO_27396": ULTRASOUND,  # Volar ganglion cyst. Longitudinal ultrasound showing a well-defined...
    "ROCO_27403": MRI,  # MRCP in a child with cholecysto- and choledocholithiasis. Oblique c...
    "ROCO_00408": CT,  # Chest CT scan shows culminal cavity partially filled, with thickene...
    "ROCO_66378": CT,  # Contrast-enhanced CT of the chest obtained in a patient with Hodgki...
    "ROCO_09154": RADIOGRAPH,  # 35-year-old male presented with 2 weeks history of dyspnea and feve...
    "ROCO_27462": MRI,  # T2-weighted sagital magnetic resonance imaging showed an almost com...
    "ROCO_27466": OTHER,  # Multiple abscesses in pelvic cavity.
    "ROCO_00433": MRI,  # MR Image through common femoral region showing an inhomogenous pred...
    "ROCO_66565": CT,  # Coronal contrast-enhanced CT image showing ectatic superior mesente...
    "ROCO_79574": CT,  # CT scan shows single thin-walled cavity in the lower-left lobe.
    "ROCO_45627": MAMMOGRAPHY,  # Mammogram of the left breast. A lobulated mass with a smooth surfac...
    "ROCO_20715": MAMMOGRAPHY,  # 70-year-old man with intracystic papillary carcinoma. At presentati...
    "ROCO_79750": ULTRASOUND,  # A gray-scale ultrasound image of the lesion shows a well-defined is...
    "ROCO_27379": NUCLEAR,  # Axial PET CT showing increased FDG uptake in the mesentery of the l...
    "ROCO_26516": NUCLEAR,  # 99mTc-MDP bone scintigraphy. Posterior aspect.
    "ROCO_42659": NUCLEAR,  # 18F-DOPA PET scan. A focal lesion was identified in the head of the...
    "ROCO_13158": NUCLEAR,  # The hilar lesion (arrow) demonstrates low-to-moderate avidity on 18...
    "ROCO_35266": FLUOROSCOPY,  # Fluoroscopic image showing a 0.035-inch wire passed from the endosc...
    "ROCO_15973": FLUOROSCOPY,  # Barium enema shows transitional zone and reversed rectosigmoid inde...
    "ROCO_28869": FLUOROSCOPY,  # ERCP showing blunt ending of the main pancreatic duct in the tail o...
    "ROCO_46275": FLUOROSCOPY,  # X-ray cystogram showing colovesical fistula (red arrow) connecting ...
    "ROCO_10260": ANGIOGRAPHY,  # Oblique view under DSA shows vasospasm in left A1 (arrow)
    "ROCO_68023": ANGIOGRAPHY,  # Coronal reconstruction of computed tomography angiography (CTA): st...
    "ROCO_59093": ULTRASOUND,  # Transthoracic echocardiogram of apical four-chamber view showing se...
    "ROCO_11467": ULTRASOUND,  # Spoke-wheel presentation in a Doppler US examination, typical of FNH
    "ROCO_52235": ANGIOGRAPHY,  # Left ventriculogram during systole displaying the characteristic ap...
    "ROCO_17263": CT,  # CBCT image shows sagittal view of an erosive lesion on condylar head.
    "ROCO_08346": RADIOGRAPH,  # Case 3. Panoramic radiograph showing severe periodontal destruction...
    "ROCO_05652": RADIOGRAPH,  # Lateral cephalogram showing type 4 (straight line) pattern of soft ...
    "ROCO_04954": RADIOGRAPH,  # Chest x-ray
    "ROCO_05805": ANGIOGRAPHY,  # DSA.
    "ROCO_22277": RADIOGRAPH,  # Patient OPG.
    "ROCO_36145": MRI,  # Bilateral temporal lobe flair hyperintensity with occipital sparing
    "ROCO_49679": MRI,  # Coronal opposed - phase T1WI shows lack of signal drop from most of...
    "ROCO_05693": ULTRASOUND,  # Phthisis bulbi in a 63-year-old man with a history of left ocular t...
    "ROCO_13334": RADIOGRAPH,  # Abdominal plain film with no gross abnormalities.
    "ROCO_42418": NUCLEAR,  # Lymphoscintigraphy of a 35-year-old woman with carcinoma in situ of...
    "ROCO_33775": NUCLEAR,  # PET scan: Abnormal uptake in T11, L3 and the right acetabulum; sign...
}


def test_hand_labelled_roco_captions_get_the_modality_a_reader_gives_them(
    roco_entries: dict[str, EntryRecord],
) -> None:
    wrong = {
        entry_id: f"{expected} expected, got {modality_of(roco_entries[entry_id])}: "
        f"{roco_entries[entry_id].caption[:90]}"
        for entry_id, expected in HAND_LABELS.items()
        if modality_of(roco_entries[entry_id]) != expected
    }
    accuracy = 1 - len(wrong) / len(HAND_LABELS)
    assert set(HAND_LABELS.values()) == set(MODALITIES), "every modality should be labelled at least once"
    assert accuracy >= 0.9, "mismatches:\n" + "\n".join(f"{k}: {v}" for k, v in wrong.items())


def test_most_roco_captions_get_a_modality(roco_entries: dict[str, EntryRecord]) -> None:
    # Measured: 1,605 of 8,180 (19.6%) are "other". Reading 100 of them at random, about four in five
    # name no modality at all ("Extensive cerebral haemorrhage", "Broken right tibia", photographs,
    # OCT, diagrams), so a bound much below 19% could only be met by guessing.
    others = sum(modality_of(entry) == OTHER for entry in roco_entries.values())
    assert len(roco_entries) == 8180
    assert others / len(roco_entries) < 0.22
