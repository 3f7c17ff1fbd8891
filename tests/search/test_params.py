"""Reading search parameters: one parser per kind of search, shared by pages and API; and no input
that reaches the vector arithmetic can cause a 500."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apps.comparison.api import CompareParams
from apps.corpus.spaces import CAPTION, configured_spaces
from apps.ml.encoders import load_encoder
from apps.search.api import ArithmeticParams, PictureSearchParams, SimilarParams, TextSearchParams
from apps.search.params import QueryError, arithmetic_params
from apps.search.selectors import arithmetic_search
from apps.search.vectors import ZeroVector, concept_vector
from tests import factories

CAPTIONS = [
    "Chest radiograph showing right lower lobe pneumonia with consolidation.",
    "Normal chest radiograph with clear lungs.",
    "Axial CT of the abdomen with a liver mass.",
]


def png_upload() -> SimpleUploadedFile:
    data = io.BytesIO()
    factories.picture(1).save(data, format="PNG")
    return SimpleUploadedFile("q.png", data.getvalue())


class Recording(dict):
    """Request parameters that remember which names were read, answering each with a valid value."""

    VALID = {
        "k": "3",
        "page": "1",
        "wq": "1",
        "wadd": "0.5",
        "wsub": "0.5",
        "weight": "0.5",
        "ranking": "reranked",  # the ordering that also reads `description`
    }

    def __init__(self) -> None:
        super().__init__()
        self.read: set[str] = set()

    def get(self, name, default=None):
        self.read.add(name)
        if name == "image":
            return png_upload()
        if name in ("modality", "licence", "dataset", "origin"):
            return default  # the filters' defaults: no filter
        return self.VALID.get(name, "chest radiograph")


@pytest.mark.parametrize(
    "serializer", [TextSearchParams, PictureSearchParams, ArithmeticParams, SimilarParams, CompareParams]
)
def test_each_api_parameter_serializer_describes_exactly_what_its_parser_reads(serializer):
    params = Recording()
    serializer.parse(params)
    assert params.read == set(serializer().fields)


@pytest.mark.django_db
def test_the_page_and_the_api_refuse_a_bad_value_with_the_same_message(client):
    api = factories.api_as(None)
    for page_url, api_url, params in [
        ("/", "/api/search/", {"q": "chest", "k": "500"}),
        ("/compare/", "/api/search/arithmetic/", {"mode": "arith", "q": "chest", "wq": "3"}),
        ("/compare/", "/api/compare/", {"mode": "pair", "a": "chest", "b": "head", "licence": "free"}),
    ]:
        page = client.get(page_url, params)
        error = factories.assert_error(api.get(api_url, params), 400, "invalid")
        assert page.status_code == 400
        assert error["message"] in page.content.decode().replace("&#x27;", "'")


# --- Vector arithmetic: a 400 for every combination that adds up to nothing --------------------------

UNIT = {
    name: v / np.linalg.norm(v)
    for name, v in zip("xyz", np.random.default_rng(3).normal(size=(3, 16)), strict=True)
}
weights = st.one_of(st.sampled_from([0.0, 0.5, 1.0, 2.0]), st.floats(0.0, 2.0))


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    q=st.sampled_from("xyz"),
    add=st.sampled_from(["", "x", "y", "z"]),
    sub=st.sampled_from(["", "x", "y", "z"]),
    wq=weights,
    wadd=weights,
    wsub=weights,
)
@example(q="x", add="", sub="", wq=0.0, wadd=1.0, wsub=1.0)  # a zero weight on the only term
@example(q="x", add="", sub="x", wq=1.0, wadd=1.0, wsub=1.0)  # sub equal to q
@example(q="x", add="x", sub="x", wq=0.5, wadd=0.5, wsub=1.0)  # q + add − sub = 0
def test_the_concept_vector_is_a_unit_vector_or_a_zero_vector_error(q, add, sub, wq, wadd, wsub):
    exact = wq * UNIT[q] + (wadd * UNIT[add] if add else 0) - (wsub * UNIT[sub] if sub else 0)
    scale = wq + (wadd if add else 0) + (wsub if sub else 0)
    try:
        vector = concept_vector(
            UNIT[q],
            add=UNIT[add] if add else None,
            sub=UNIT[sub] if sub else None,
            query_weight=wq,
            add_weight=wadd,
            sub_weight=wsub,
        )
    except ZeroVector:
        # Refused only when the terms (nearly) cancel, or every weight is (nearly) zero.
        assert np.linalg.norm(exact) <= max(1e-3 * scale, 1e-11)
    else:
        assert np.isfinite(vector).all() and abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
        assert np.linalg.norm(exact) > 1e-7 * scale  # never a direction made of rounding noise


@pytest.fixture
def caption_corpus(db):
    factories.images(*CAPTIONS)
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())


TERMS = ["Chest X-ray", "chest x-ray", "pneumonia", "clear lungs"]  # the first two encode alike


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    q=st.sampled_from(TERMS),
    add=st.sampled_from(["", *TERMS]),
    sub=st.sampled_from(["", *TERMS]),
    wq=weights,
    wadd=weights,
    wsub=weights,
)
@example(q="pneumonia", add="", sub="", wq=0.0, wadd=1.0, wsub=1.0)
@example(q="pneumonia", add="", sub="pneumonia", wq=1.0, wadd=1.0, wsub=1.0)
@example(q="Chest X-ray", add="", sub="chest x-ray", wq=2.0, wadd=1.0, wsub=2.0)
@example(q="pneumonia", add="clear lungs", sub="clear lungs", wq=0.0, wadd=1.0, wsub=1.0)
def test_any_weights_and_terms_give_results_or_a_400_never_a_500(
    caption_corpus, settings, q, add, sub, wq, wadd, wsub
):
    settings.MIRAGE_SIMILARITY_FLOOR_CAPTION = -1.0  # every image is a match: this tests the arithmetic
    params = {
        "q": q,
        "add": add,
        "sub": sub,
        "wq": repr(wq),
        "wadd": repr(wadd),
        "wsub": repr(wsub),
        "k": "3",
    }
    scale = wq + (wadd if add else 0) + (wsub if sub else 0)
    encode = load_encoder(configured_spaces()[CAPTION].model).encode_query
    exact = wq * encode(q).astype(np.float64)
    exact += wadd * encode(add) if add else 0
    exact -= wsub * encode(sub) if sub else 0
    try:
        original, modified = arithmetic_search(**arithmetic_params(params))
    except QueryError as exc:
        assert exc.status == 400 and "cancel out" in str(exc)
        assert np.linalg.norm(exact) <= max(1e-3 * scale, 1e-11)
    else:
        assert len(original.hits) == len(modified.hits) == 3
        assert np.linalg.norm(exact) > 1e-7 * scale


@pytest.mark.parametrize(
    "params",
    [
        {"q": "pneumonia", "wq": "0"},  # a zero weight on the only term
        {"q": "pneumonia", "sub": "pneumonia"},  # sub equal to q
        {"q": "Chest X-ray", "sub": "chest x-ray"},  # the same words, spelt differently
        {"q": "pneumonia", "add": "clear lungs", "sub": "clear lungs", "wq": "0"},
    ],
)
def test_terms_that_cancel_out_get_a_400_from_the_api_and_the_page(caption_corpus, client, params):
    error = factories.assert_error(
        factories.api_as(None).get("/api/search/arithmetic/", params), 400, "invalid"
    )
    assert "cancel out" in error["message"]
    page = client.get("/compare/", {"mode": "arith", **params})
    assert page.status_code == 400 and "cancel out" in page.content.decode()


@pytest.mark.django_db
def test_control_characters_in_a_query_or_a_filter_never_reach_the_database(client):
    assert client.get("/api/search/", {"q": "chest\x00x-ray"}).status_code == 200
    refused = client.get("/api/search/", {"q": "chest", "dataset": "ro\x00co"})
    assert refused.status_code == 400 and "Unknown dataset" in refused.json()["error"]["message"]
    assert client.get("/api/compare/", {"q": "\x00", "q2": "chest"}).status_code == 400
