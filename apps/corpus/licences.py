"""Licences: the normalized list shown to users and used as a filter."""

from __future__ import annotations

import re

CC0 = "cc0"
CC_BY = "cc-by"
CC_BY_SA = "cc-by-sa"
CC_BY_ND = "cc-by-nd"
CC_BY_NC = "cc-by-nc"
CC_BY_NC_SA = "cc-by-nc-sa"
CC_BY_NC_ND = "cc-by-nc-nd"
PUBLIC_DOMAIN = "public-domain"
OTHER_OPEN = "other-open"  # an open licence that is not Creative Commons (MIT, BSD, …)
NONE = "none"  # no open licence (ROCO's "NO-CC CODE")
NOT_RECORDED = "not-recorded"  # the source does not say (e.g. the hub's ROCO-radiology parquet)

LICENCES: dict[str, str] = {
    CC0: "CC0",
    CC_BY: "CC BY",
    CC_BY_SA: "CC BY-SA",
    CC_BY_ND: "CC BY-ND",
    CC_BY_NC: "CC BY-NC",
    CC_BY_NC_SA: "CC BY-NC-SA",
    CC_BY_NC_ND: "CC BY-NC-ND",
    PUBLIC_DOMAIN: "Public domain",
    OTHER_OPEN: "Other open licence",
    NONE: "No open licence",
    NOT_RECORDED: "Licence not recorded — see the source article",
}

# What is not known to be open is treated as not open: NOT_RECORDED is neither open nor commercial.
OPEN = frozenset(LICENCES) - {NONE, NOT_RECORDED}
COMMERCIAL_USE = frozenset({CC0, CC_BY, CC_BY_SA, CC_BY_ND, PUBLIC_DOMAIN, OTHER_OPEN})

# Creative Commons licence elements, keyed by the set of elements after "BY"
_CC_BY: dict[frozenset[str], str] = {
    frozenset(): CC_BY,
    frozenset({"sa"}): CC_BY_SA,
    frozenset({"nd"}): CC_BY_ND,
    frozenset({"nc"}): CC_BY_NC,
    frozenset({"nc", "sa"}): CC_BY_NC_SA,
    frozenset({"nc", "nd"}): CC_BY_NC_ND,
}
# Long forms ("Creative Commons Attribution-NonCommercial 4.0") spelled as the short ones
_CC_WORDS = [
    (r"creative\s*commons", " cc "),
    (r"attribution", " by "),
    (r"non-?\s*commercial", " nc "),
    (r"share-?\s*alike", " sa "),
    (r"no-?\s*deriv\w*", " nd "),
]
# Open licences other than Creative Commons: common software and open-data licences (SPDX-style names)
_OTHER_OPEN = re.compile(
    r"^(?:mit|bsd|apache|isc|zlib|l?gpl|agpl|mpl|epl|artistic|(?:the\s+)?unlicense|odbl|odc-by|ogl"
    r"|open\s+government\s+licen[cs]e)\b"
)


def normalize_licence(raw: str) -> str:
    """The LICENCES value for a licence as a source writes it ("CC BY-NC-SA", a creativecommons.org URL).

    Empty strings, ROCO's "NO-CC CODE", "all rights reserved" and anything not recognised give NONE:
    an unrecognised licence is treated as not openly licensed, the safe default for what may be shown.
    """
    text = " ".join(raw.lower().split())
    if not text:
        return NONE
    for pattern, short in _CC_WORDS:
        text = re.sub(pattern, short, text)
    tokens = set(re.findall(r"[a-z0-9]+", text))
    if tokens & {"cc", "creativecommons"}:
        if tokens & {"cc0", "zero"}:
            return CC0
        if "by" in tokens:
            return _CC_BY.get(frozenset(tokens & {"nc", "sa", "nd"}), NONE)
        if "publicdomain" in tokens:  # creativecommons.org/publicdomain/mark/1.0/
            return PUBLIC_DOMAIN
        return NONE  # "NO-CC CODE" and the like
    if "cc0" in tokens:
        return CC0
    if re.search(r"public\s*domain|^pd$|^pddl\b", text):
        return PUBLIC_DOMAIN
    if _OTHER_OPEN.search(text):
        return OTHER_OPEN
    return NONE
