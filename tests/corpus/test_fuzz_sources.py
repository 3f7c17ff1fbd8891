"""Property-based tests (hypothesis): whatever the ROCO, ROCOv2 and CSV/JSON-lines files hold, reading
them ends in records and reported problems, never a crash; and whatever text the records carry, storing
them ends in rows or reported problems."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.corpus.models import Image
from apps.corpus.records import EntryRecord, ParseProblem
from apps.corpus.services import import_records
from apps.corpus.sources.folder import read_folder
from apps.corpus.sources.roco import read_roco
from apps.corpus.sources.rocov2 import read_rocov2
from tests import factories
from tests.operations.corpora import picture

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that looks like the formats' own pieces as well as anything at all: ids, tabs, commas, quotes,
# newlines, NUL and other control characters, non-ASCII.
PIECES = st.sampled_from(
    ["ROCO_00001", "ROCO_00002", "\t", "\t\t", ",", '"', "CC BY", "NO-CC CODE", "T060", "C0040405", " ", "\r"]
)
CHUNK = st.one_of(PIECES, st.text(max_size=12))
LINE = st.lists(CHUNK, max_size=8).map("".join)
FILE_TEXT = st.lists(LINE, max_size=6).map("\n".join)
# Now and then bytes that are not UTF-8 at all.
FILE_BYTES = st.one_of(
    FILE_TEXT.map(lambda text: text.encode("utf-8", "surrogatepass")), st.binary(max_size=80)
)


def check(records: list[EntryRecord], problems: list[ParseProblem]) -> None:
    for record in records:
        assert isinstance(record.external_id, str) and record.external_id
        assert isinstance(record.caption, str)
    for problem in problems:
        assert str(problem)


ROCO_FILES = ("captions", "keywords", "cuis", "semtypes", "dlinks", "licences")


@FUZZ
@given(contents=st.fixed_dictionaries({name: FILE_BYTES for name in ROCO_FILES}))
def test_any_roco_files_read_into_records_and_problems(contents):
    with tempfile.TemporaryDirectory() as folder:
        for name, data in contents.items():
            (Path(folder) / f"{name}.txt").write_bytes(data)
        check(*read_roco(Path(folder), split="test", category="radiology"))


CSV_TEXT = st.lists(st.lists(CHUNK, max_size=4).map(",".join), max_size=6).map("\n".join)


@FUZZ
@given(
    header=st.sampled_from(["ID,Caption", "ID,CUIs", "id,caption", "", "Caption,ID"]),
    captions=st.one_of(CSV_TEXT.map(str.encode), st.binary(max_size=80)),
    concepts=st.one_of(CSV_TEXT.map(str.encode), st.binary(max_size=80)),
)
def test_any_rocov2_csv_files_read_into_records_and_problems(header, captions, concepts):
    with tempfile.TemporaryDirectory() as root:
        (Path(root) / "test_captions.csv").write_bytes(header.encode() + b"\n" + captions)
        (Path(root) / "test_concepts.csv").write_bytes(b"ID,CUIs\n" + concepts)
        check(*read_rocov2(Path(root)))


JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
ROW = st.fixed_dictionaries(
    {},
    optional={
        "file": st.one_of(
            st.sampled_from(["a.png", "sub/b.png", "../x.png", "/etc/passwd", "c.txt"]), JSON_VALUE
        ),
        "caption": st.one_of(st.text(max_size=20), JSON_VALUE),
        "modality": st.one_of(st.sampled_from(["ct", "MRI", "x-ray", "nonsense"]), JSON_VALUE),
        "licence": JSON_VALUE,
        "source": st.one_of(st.sampled_from(["https://example.org/a", "Dr. Who"]), JSON_VALUE),
        "keywords": JSON_VALUE,
    },
)


@FUZZ
@given(rows=st.lists(st.one_of(ROW, JSON_VALUE), max_size=6), junk=st.lists(LINE, max_size=2))
def test_any_json_lines_captions_file_reads_into_records_and_problems(rows, junk):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "sub").mkdir()
        picture(1, size=8).save(root / "a.png")
        picture(2, size=8).save(root / "sub" / "b.png")
        lines = [json.dumps(row) for row in rows] + junk
        (root / "captions.jsonl").write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
        check(*read_folder(root, root / "captions.jsonl"))


@FUZZ
@given(
    header=st.sampled_from(["file,caption", "file,caption,modality,licence,source,keywords", "caption", ""]),
    body=st.one_of(CSV_TEXT.map(str.encode), st.binary(max_size=80)),
)
def test_any_csv_captions_file_reads_into_records_and_problems(header, body):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        picture(1, size=8).save(root / "a.png")
        (root / "captions.csv").write_bytes(header.encode() + b"\na.png,A caption\n" + body)
        check(*read_folder(root, root / "captions.csv"))


ANY_TEXT = st.text(max_size=40)  # NUL, control and non-BMP characters included


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    caption=ANY_TEXT,
    keywords=st.lists(ANY_TEXT, max_size=3),
    cuis=st.lists(ANY_TEXT, max_size=2),
    semtypes=st.lists(st.tuples(ANY_TEXT, ANY_TEXT), max_size=2),
    licence=ANY_TEXT,
    pmc_id=ANY_TEXT,
    attribution=ANY_TEXT,
)
def test_any_text_a_parser_lets_through_is_stored_or_reported(
    caption, keywords, cuis, semtypes, licence, pmc_id, attribution
):
    record = factories.record(
        caption,
        with_image=False,
        keywords=keywords,
        cuis=cuis,
        semtypes=semtypes,
        licence_raw=licence,
        pmc_id=pmc_id,
        attribution=attribution,
    )

    summary = import_records(dataset=factories.dataset("fuzz"), records=[record])

    stored = Image.objects.filter(external_id=record.external_id).first()
    if stored is None:
        assert summary.failed == 1 and summary.problems
    else:
        assert summary.imported == 1
        assert "\x00" not in stored.caption
