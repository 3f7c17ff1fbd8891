"""Imaging modality: the fixed list, and its derivation from caption, keywords and semantic types."""

from __future__ import annotations

import re

CT = "ct"
MRI = "mri"
RADIOGRAPH = "radiograph"
ULTRASOUND = "ultrasound"
ANGIOGRAPHY = "angiography"
NUCLEAR = "nuclear"
FLUOROSCOPY = "fluoroscopy"
MAMMOGRAPHY = "mammography"
OTHER = "other"

# value -> label shown to users
MODALITIES: dict[str, str] = {
    CT: "CT",
    MRI: "MRI",
    RADIOGRAPH: "Radiograph (X-ray)",
    ULTRASOUND: "Ultrasound",
    ANGIOGRAPHY: "Angiography",
    NUCLEAR: "Nuclear medicine / PET",
    FLUOROSCOPY: "Fluoroscopy",
    MAMMOGRAPHY: "Mammography",
    OTHER: "Other",
}


def _words(*alternatives: str) -> re.Pattern[str]:
    """Terms matched case-insensitively, starting at a word boundary (so "pelvi" also finds "pelvis")."""
    return re.compile(r"\b(?:" + "|".join(alternatives) + ")", re.IGNORECASE)


def _abbreviations(*alternatives: str) -> re.Pattern[str]:
    """Upper-case abbreviations, whole words, case-sensitive: "US" is not "us", and "MR" is not "Mr"."""
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


# A CT or MR examination named after what it shows ("CT urography", "MR cholangiography") is CT or MRI,
# not the fluoroscopic study of the same name.
_CT = (
    r"(?:ct|c\.t\.?|mdct|computed\s+(?:\w+\s+)?tomogra\w*|computeri[sz]ed\s+tomogra\w*|computer\s*tomogra\w*)"
)
_MR = r"(?:mri?|magnetic\s+resonance)"
_CONTRAST_STUDY = (
    r"(?:cholangio\w*|uro\w*|entero\w*|colono\w*|arthrogra\w*|myelogra\w*|cystogra\w*|sialogra\w*)"
)

# Terms that name a modality (English, and the French that some PMC articles are written in). Listed
# most specific first: when two modalities are named at the same place ("CT angiography" starts where
# "CT" does), the one earlier in this list wins.
_NAMES: list[tuple[str, list[re.Pattern[str]]]] = [
    (
        MAMMOGRAPHY,
        [
            _words(
                r"mammogra",
                r"tomosynthesis",
                r"mediolateral[\s-]+oblique",
                r"craniocaudal\s+(?:\(\w+\)\s+)?views?",
            ),
            _abbreviations("MLO", "DBT"),
        ],
    ),
    (
        ANGIOGRAPHY,
        [
            # "CT angiography", "CT pulmonary angiography", "MR venography", "angio-MRI"
            _words(f"(?:{_CT}|{_MR})" + r"[\s-]*(?:\w+\s+)?(?:angio|venogra|arteriogra|aortogra)"),
            _words(r"(?:lymph)?angiogra", r"angio\b", r"angio-", r"angioscan", r"arteriogra", r"aortogra"),
            _words(
                r"venogra", r"phlebogra", r"portogra", r"cavogra", r"ventriculogra", r"digital\s+subtraction"
            ),
            # a cardiac catheterization figure is the coronary angiogram taken during it
            _words(r"(?:cardiac|heart|coronary|diagnostic)\s+catheteri[sz]ation"),
            _abbreviations("DSA", "CTA", "CTPA", "MRA", "MRV"),
        ],
    ),
    (
        NUCLEAR,
        [
            # "PET/CT", "CT-PET", "SPECT-CT" and "single photon emission computed tomography" are nuclear
            _words(
                r"pet\b",
                r"spect\b",
                r"ct[\s/-]*(?:pet|spect)\b",
                r"positron\s+emission",
                r"single[\s-]+photon",
            ),
            _words(r"\w*scintig", r"scintiscan", r"bone\s+scan", r"nuclear\s+medicine", r"radionuclide"),
            _words(r"radiotracer", r"radioiodine", r"\d*f?-?fdg\b", r"fluorodeoxyglucose", r"technetium"),
            _words(
                r"99m\s*-?tc", r"tc\s*-?\s*99m", r"gallium", r"ga-?68", r"psma\b", r"mibg\b", r"sestamibi"
            ),
            _words(r"thallium", r"octreoscan", r"dat-?scan", r"gamma\s+camera", r"v/q\s+scan"),
        ],
    ),
    (
        CT,
        [
            _words(_CT + r"[\s-]*" + _CONTRAST_STUDY),
            _words(_CT + r"(?!\w)", r"cat\s+scan", r"hrct\b", r"cbct\b", r"msct\b", r"cect\b", r"ncct\b"),
            _words(r"cone[\s-]+beam", r"hounsfield", r"tomodensitom", r"\w*scanner\b", r"scannogra"),
            _abbreviations("TDM"),
        ],
    ),
    (
        MRI,
        [
            _words(_MR + r"[\s-]*" + _CONTRAST_STUDY, r"mrcp\b"),
            _words(
                r"mri\b",
                r"magnet(?:ic)?\s+resonance",
                r"nuclear\s+magnetic",
                r"flair\b",
                r"fluid[\s-]+attenuated\s+inversion",
                r"diffusion[\s-]+(?:weighted|tensor)",
            ),
            # "T2-weighted", "T1WI", "T2 signal", but not the vertebrae T1 and T2 or a tumour stage "cT2"
            _words(
                r"t[12][\s-]*(?:w\b|wi\b|weighted|s[ée]quence|signal|image|hyper|hypo|iso|fat|fs\b|post|"
                r"axial|coronal|sagittal)",
                r"(?:axial|coronal|sagittal|section|sequence)\s+t[12]\b",
            ),
            _words(r"(?:spin|gradient|turbo|double|dual|multi\w*)[\s-]+echo", r"echo[\s-]+planar"),
            _words(r"proton[\s-]+density", r"gadolinium", r"apparent\s+diffusion", r"black[\s-]+blood"),
            _abbreviations("MR", "NMR", "IRM", "CMR", "DWI", "ADC", "STIR", "SWI", "DTI", "SSFP", "FISP"),
            _abbreviations("HASTE", "FIESTA", "SSFSE", "TSE", "FSE"),
        ],
    ),
    (
        FLUOROSCOPY,
        [
            _words(
                r"\w*fluoroscop",
                r"barium",
                r"baso4",
                r"gastrograf+in",
                r"image\s+intensifier",
                r"(?:contrast\s+)?swallow\s+(?:study|test)",
            ),
            _words(
                r"o?esophag(?:o)?gra", r"hysterosalpingogra", r"\w*urethrogra", r"\w*cystogra", r"\w*pyelogra"
            ),
            _words(r"fistulogra", r"sinogra", r"sialogra", r"cholangiogra", r"loopogra", r"defecogra"),
            _words(
                r"arthrogra",
                r"contrast\s+enema",
                r"upper\s+(?:gi|gastrointestinal)\s+(?:series|study|contrast|image)",
                r"c-arm",
            ),
            _words(r"endoscopic\s+retrograde\s+cholangio", r"nephrostogra"),
            _abbreviations("HSG", "VCUG", "MCUG", "ERCP"),
        ],
    ),
    (
        ULTRASOUND,
        [
            _words(r"ultrason", r"ultrasound", r"\w*sonogra", r"[ée]chocardiogra", r"[ée]chogra", r"doppler"),
            # "echo" on its own is echocardiography, but "spin-echo", "multi-echo", "echo time" are MRI
            re.compile(r"(?<!-)\becho\b(?![\s-]*(?:planar|time|train))", re.IGNORECASE),
            _words(r"elastogra", r"[bm]-mode", r"transvaginal", r"transabdominal", r"duplex"),
            # echocardiography's own views and routes
            _words(r"parasternal", r"apical\s+(?:\w+[\s-])?chamber", r"subcostal", r"trans-?o?esophageal"),
            _words(r"transthoracic", r"mid-?o?esophageal"),
            _abbreviations("US", "USG", "HRUS", "CEUS", "EUS", "UBM", "TTE", "TEE", "TOE", "TRUS", "TVUS"),
        ],
    ),
    (
        RADIOGRAPH,
        [
            _words(r"radiogra", r"x[\s-]?rays?\b", r"xray", r"\w*r(?:oe|o|ö)ntgen", r"skiagram", r"films?\b"),
            _words(r"orthopanto", r"cephalogra", r"periapical", r"bitewing", r"scanogra"),
            # a dental panoramic radiograph, but not a "panoramic CBCT" or "panoramic ultrasound"
            _words(r"panoramic(?!\s+(?:cbct|ct|ultrasound|us|reconstruction))"),
            # intravenous urography is a series of radiographs ("CT urography" is matched as CT above)
            _words(r"urogra"),
            _abbreviations("OPG", "OPT", "OTP", "IOPA", "IVU", "IVP", "CXR", "AXR", "KUB"),
        ],
    ),
]

# Findings words that belong to one modality ("hyperintense" is MRI, "hypodense" CT); they decide only
# when the caption names no modality, since any modality may quote another's findings.
_SIGNS: list[tuple[str, list[re.Pattern[str]]]] = [
    (CT, [_words(r"hyper\s*dens", r"hypo\s*dens", r"iso\s*dens", r"\w*attenuat")]),
    (
        MRI,
        [
            _words(
                r"hyper\s*intens",
                r"hypo\s*intens",
                r"iso\s*intens",
                r"hypersignal",
                r"hyposignal",
                r"signal\s+(?:change|intensit)",
            )
        ],
    ),
    (
        ULTRASOUND,
        [_words(r"(?:hyper|hypo|an|iso)?\s*echoic", r"\w*echogenic", r"four[\s-]chamber", r"transducer")],
    ),
    (NUCLEAR, [_words(r"uptake", r"hypermetabolic", r"metabolic\s+activity", r"\w*-?avid\b")]),
    (ANGIOGRAPHY, [_words(r"angioplasty")]),  # the figure of an angioplasty is its angiogram
    (
        RADIOGRAPH,
        [
            _words(r"radiolucen", r"radio-?opa", r"radiopa", r"weight[\s-]+bearing"),
            # projections named the way radiographs are; CT and MRI name planes (axial, coronal) instead
            _words(
                r"(?:antero-?\s*posterior|anterior-posterior|postero-?\s*anterior|posterior-anterior|ap|pa|lateral|oblique)"
                r"\s+(?:\w+\s+)?(?:view|projection)"
            ),
        ],
    ),
]


def _joined(terms: list[tuple[str, list[re.Pattern[str]]]]) -> tuple[re.Pattern[str], list[str]]:
    """All the terms' patterns as one, each modality's a named group (`m0`, `m1`, … in the order of
    `terms`), each pattern keeping its own case rule; and the modalities in that order. A search finds
    the leftmost position where any pattern matches, and at one position the first alternative that
    matches: the first mention, ties going to the modality listed first, in one pass over the text
    (an import derives thousands of modalities; one pass per modality took twice as long)."""

    def scoped(pattern: re.Pattern[str]) -> str:
        return f"(?{'i' if pattern.flags & re.IGNORECASE else '-i'}:{pattern.pattern})"

    groups = (f"(?P<m{rank}>{'|'.join(map(scoped, patterns))})" for rank, (_, patterns) in enumerate(terms))
    return re.compile("|".join(groups)), [modality for modality, _ in terms]


_NAMES_JOINED = _joined(_NAMES)
_SIGNS_JOINED = _joined(_SIGNS)


def _first_mention(text: str, joined: tuple[re.Pattern[str], list[str]]) -> str:
    """The modality whose term comes first in the text; ties go to the one listed first."""
    pattern, modalities = joined
    # The outer named group closes last, so it is the match's `lastgroup` even when a pattern has groups.
    return modalities[int(m.lastgroup[1:])] if (m := pattern.search(text)) else OTHER


def derive_modality(caption: str, keywords: list[str], semtypes: list[tuple[str, str]]) -> str:
    """The imaging modality a caption describes, one of MODALITIES; OTHER when it names none.

    The modality named first wins: captions name the image's own modality first and later ones are
    usually comparisons ("ultrasound shows the calcification seen on the mammogram"). Names of
    specific examinations count as one mention of the specific modality: "CT angiography", "MRA"
    and "DSA" are angiography; "PET/CT" and "SPECT/CT" are nuclear medicine; "MRCP" is MRI and
    "CT urography" is CT, though plain "cholangiography" and "urethrography" are fluoroscopy.

    When the caption names no modality, findings words typical of one decide ("hyperintense" is
    MRI, "hypodense" CT, "hypoechoic" ultrasound). Keywords are consulted last (ROCO's keywords are stemmed
    words of the caption itself, e.g. "pelvi", so they rarely add anything). Semantic types are
    accepted so callers can pass everything an entry has, but they do not decide anything: UMLS
    types only say a concept is e.g. "Diagnostic Procedure", not which one.
    """
    modality = _first_mention(caption, _NAMES_JOINED)
    if modality == OTHER:
        modality = _first_mention(caption, _SIGNS_JOINED)
    if modality == OTHER and keywords:
        modality = _first_mention(" ".join(keywords), _NAMES_JOINED)
    return modality
