"""The orders a search can return its results in (the `ranking` parameter of pages and API)."""

FUSED = "fused"
PAPER = "paper"
RERANKED = "reranked"
RANKINGS = {
    FUSED: "Fused: picture content, caption meaning and caption words together",
    PAPER: "The paper's: CLIP cosine similarity only, exact",
    RERANKED: "Re-ranked by a description (experimental: on ROCO it lowers the first hit)",
}
