"""Property-based tests (hypothesis): whatever a page or the API receives as a query, filters, counts,
weights or concept-arithmetic terms, reading it ends in values within their limits or one clean
QueryError, and a cleaned query runs in the full-text channel without a database error."""

from __future__ import annotations

import math

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apps.core.errors import UserError
from apps.search.channels import full_text_images
from apps.search.filters import Filters, searchable_images
from apps.search.params import (
    QueryError,
    arithmetic_params,
    clean_filters,
    clean_k,
    clean_page,
    clean_query,
    clean_weight,
)

pytestmark = pytest.mark.django_db
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# What a query string can carry: anything, and the shapes that parsers trip on.
TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "\x00", "nan", "inf", "-1", "1e309", "0x10", "١٢", "1_0", "  7  ", "²"]),
    st.integers().map(str),
    st.floats().map(str),
)
PARAM_NAMES = [
    "q",
    "add",
    "sub",
    "wq",
    "wadd",
    "wsub",
    "k",
    "page",
    "modality",
    "licence",
    "dataset",
    "origin",
]
PARAMS = st.dictionaries(st.sampled_from(PARAM_NAMES), TEXT, max_size=8)


@FUZZ
@given(params=PARAMS)
@example(params={"dataset": "\x00"})
@example(params={"modality": "\x00", "licence": "\x00"})
def test_any_filter_parameters_give_filters_or_one_clean_error(params):
    try:
        filters = clean_filters(params)
    except QueryError as exc:
        assert str(exc)
        return
    assert isinstance(filters, Filters)
    list(searchable_images(filters=filters, user=None)[:1])  # and they run as SQL


@FUZZ
@given(value=TEXT)
def test_any_count_page_and_weight_is_in_range_or_refused(value):
    for clean, low, high in ((clean_k, 1, 100), (clean_page, 1, None)):
        try:
            number = clean(value)
        except QueryError:
            pass
        else:
            assert isinstance(number, int) and number >= low and (high is None or number <= high)
    try:
        weight = clean_weight(value, default=1.0, what="weight")
    except QueryError:
        pass
    else:
        assert math.isfinite(weight) and 0.0 <= weight <= 2.0


@FUZZ
@given(params=PARAMS)
def test_any_arithmetic_terms_give_terms_within_limits_or_one_clean_error(params):
    try:
        terms = arithmetic_params(params)["terms"]
    except QueryError as exc:
        assert str(exc)
        return
    limit = django_settings.MIRAGE_MAX_QUERY_CHARS
    assert terms.query and len(terms.query) <= limit
    assert len(terms.add) <= limit and len(terms.sub) <= limit
    for weight in (terms.query_weight, terms.add_weight, terms.sub_weight):
        assert math.isfinite(weight) and 0.0 <= weight <= 2.0
    assert terms.label and isinstance(terms.prompt, str)


@FUZZ
@given(text=st.one_of(TEXT, st.text(min_size=990, max_size=1010)))
@example(text="chest\x00x-ray")
@example(text="\x00\x01\x7f")
def test_any_query_text_is_refused_cleanly_or_runs_in_the_full_text_channel(text):
    try:
        query = clean_query(text)
    except UserError as exc:
        assert str(exc)
        return
    assert query == query.strip() and 0 < len(query) <= django_settings.MIRAGE_MAX_QUERY_CHARS
    ranking = full_text_images(query=query, limit=10, among=searchable_images(filters=Filters(), user=None))
    assert isinstance(ranking, list)
