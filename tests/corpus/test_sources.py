"""Source parsers: ROCO, ROCOv2 and a folder with a captions file, on small fixtures and real ROCO data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.corpus.records import ParseProblem
from apps.corpus.sources.folder import read_folder
from apps.corpus.sources.roco import find_roco_folders, read_roco
from apps.corpus.sources.rocov2 import read_rocov2
from tests.roco_data import REAL_ROCO

SHARED_ROCO = REAL_ROCO

DLINK = "wget -r ftp://ftp.ncbi.nlm.nih.gov/pub/pmc/oa_package/1e/ed/{pmc}.tar.gz -P /path/to/Dir\t{image}"


def write_roco(folder: Path, *, skip: tuple[str, ...] = (), **lines: list[str]) -> Path:
    """A ROCO folder holding two good entries, with any file's lines replaced or extended by `lines`."""
    files = {
        "captions": ["ROCO_00001\t CT of the chest.", "ROCO_00002\t Chest X-ray, PA view."],
        "keywords": ["ROCO_00001\t\tchest\tct", "ROCO_00002\t\tchest\txray"],
        "cuis": ["ROCO_00001\t\tC0040405", "ROCO_00002\t\tC0039985"],
        "semtypes": ["ROCO_00001\t\tT060\tDiagnostic Procedure", "ROCO_00002\t\tT023\tBody Part"],
        "dlinks": [
            "ROCO_00001\t" + DLINK.format(pmc="PMC111", image="a.jpg"),
            "ROCO_00002\t" + DLINK.format(pmc="PMC222", image="b.jpg"),
        ],
        "licences": [
            "ROCO_ID,PMC_ID,CC",
            "ROCO_00001,PMC111_a.jpg,CC BY",
            "ROCO_00002,PMC222_b.jpg,NO-CC CODE",
        ],
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if name not in skip:
            (folder / f"{name}.txt").write_text(
                "\n".join(content + lines.get(name, [])) + "\n", encoding="utf-8"
            )
    return folder


def where(problems: list[ParseProblem]) -> list[tuple[str, int]]:
    return [(Path(p.file).name, p.line) for p in problems]


# --- ROCO ---


@pytest.fixture(scope="module")
def shared_roco():
    if not (SHARED_ROCO / "captions.txt").is_file():
        pytest.skip(f"the shared ROCO validation/radiology metadata is not at {SHARED_ROCO}")
    (folder, split, category) = find_roco_folders(SHARED_ROCO, split=None, category=None)[0]
    return read_roco(folder, split=split, category=category)


def test_real_roco_validation_radiology_folder_gives_8180_entries_and_no_problems(shared_roco) -> None:
    records, problems = shared_roco
    assert len(records) == 8180
    assert problems == []
    assert all(r.pmc_id and r.image_name and r.licence_raw for r in records)
    # one entry, ROCO_05014, really has no keywords in keywords.txt
    assert [r.external_id for r in records if not r.keywords] == ["ROCO_05014"]


def test_roco_00020_is_parsed_field_by_field(shared_roco) -> None:
    records, _ = shared_roco
    entry = next(r for r in records if r.external_id == "ROCO_00020")
    assert entry.caption == (
        "Axial computed tomography scan of the pelvis showing a diffuse infiltration of the bladder wall, "
        "catheter in situ (arrow)."
    )
    assert (entry.split, entry.category) == ("validation", "radiology")
    assert entry.keywords[:4] == ["pelvi", "scan", "wall", "bladder"]  # stemmed, in the file's order
    assert entry.keywords[-3:] == ["tomography", "catheter", "diffuse"]
    assert len(entry.keywords) == 11
    assert entry.cuis[:3] == ["C4300092", "C0040395", "C1692321"] and entry.cuis[-1] == "C0702249"
    assert len(entry.cuis) == 17
    assert entry.semtypes[0] == ("T046", "Pathologic Function")
    assert entry.semtypes[-1] == ("T109", "Organic Chemical")
    assert ("T023", "Body Part, Organ, or Organ Component") in entry.semtypes
    assert len(entry.semtypes) == 9
    assert entry.pmc_id == "PMC3970251"
    assert entry.image_name == "CRIONM2014-931546.003.jpg"
    assert entry.licence_raw == "CC BY"
    assert entry.article_url == "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3970251/"
    assert entry.image_path == SHARED_ROCO / "images" / "ROCO_00020.jpg"
    assert entry.modality == ""


def test_small_roco_folder_is_read_completely(tmp_path: Path) -> None:
    records, problems = read_roco(write_roco(tmp_path / "roco"), split="test", category="radiology")
    assert problems == []
    first, second = records
    assert (first.external_id, first.caption, first.keywords) == (
        "ROCO_00001",
        "CT of the chest.",
        ["chest", "ct"],
    )
    assert first.semtypes == [("T060", "Diagnostic Procedure")]
    assert (first.pmc_id, first.image_name, first.licence_raw) == ("PMC111", "a.jpg", "CC BY")
    assert (second.split, second.category, second.licence_raw) == ("test", "radiology", "NO-CC CODE")


def test_malformed_roco_line_is_reported_with_file_and_line_and_skipped(tmp_path: Path) -> None:
    folder = write_roco(
        tmp_path,
        captions=[
            "ROCO_00003 no tab here",  # line 3
            "ROCO_00004\t two\t tabs",  # line 4
            "\t caption without id",  # line 5
            "IMG_00006\t id not like ROCO",  # line 6
            "ROCO_00007\t   ",  # line 7
            "ROCO_00001\t duplicate",  # line 8
            "ROCO_00009\t A good one after the bad ones.",  # line 9
        ],
        # a rejected caption's other lines are not reported again
        keywords=["ROCO_00007\t\tquiet", "ROCO_00004\t\tquiet too"],
    )
    records, problems = read_roco(folder)
    assert [r.external_id for r in records] == ["ROCO_00001", "ROCO_00002", "ROCO_00009"]
    assert where(problems) == [("captions.txt", line) for line in range(3, 9)]
    assert records[0].caption == "CT of the chest."


def test_undecodable_bytes_are_reported_for_that_line_only(tmp_path: Path) -> None:
    folder = write_roco(tmp_path)
    with (folder / "captions.txt").open("ab") as f:
        f.write(b"ROCO_00003\t caf\xe9 au lait\nROCO_00004\t Fine again.\n")
    records, problems = read_roco(folder)
    assert [r.external_id for r in records] == ["ROCO_00001", "ROCO_00002", "ROCO_00004"]
    assert where(problems) == [("captions.txt", 3)]
    assert "undecodable" in problems[0].reason


def test_odd_number_of_semtype_fields_is_a_problem_and_the_entry_keeps_the_rest(tmp_path: Path) -> None:
    folder = write_roco(
        tmp_path, captions=["ROCO_00003\t MRI."], semtypes=["ROCO_00003\t\tT060\tDiagnostic\tT023"]
    )
    records, problems = read_roco(folder)
    assert where(problems) == [("semtypes.txt", 3)]
    assert "pairs" in problems[0].reason
    entry = records[-1]
    assert (entry.external_id, entry.caption, entry.semtypes) == ("ROCO_00003", "MRI.", [])


def test_side_file_lines_that_are_malformed_or_about_unknown_ids_are_reported(tmp_path: Path) -> None:
    folder = write_roco(
        tmp_path,
        keywords=["ROCO_00099\t\tunknown"],
        dlinks=["ROCO_00002\twget without archive\tb.jpg", "ROCO_00001\tonly two fields"],
        licences=["ROCO_00002,PMC222_b.jpg", "not-an-id,PMC1_x.jpg,CC BY"],
    )
    records, problems = read_roco(folder)
    assert len(records) == 2
    assert where(problems) == [
        ("keywords.txt", 3),
        ("dlinks.txt", 3),
        ("dlinks.txt", 4),
        ("licences.txt", 4),
        ("licences.txt", 5),
    ]
    assert "no caption" in problems[0].reason


def test_missing_side_file_is_one_problem_and_not_fatal(tmp_path: Path) -> None:
    records, problems = read_roco(write_roco(tmp_path, skip=("semtypes", "dlinks")))
    assert len(records) == 2
    assert where(problems) == [("semtypes.txt", 0), ("dlinks.txt", 0)]
    # without dlinks.txt the article and image name come from licences.txt's PMC_ID column
    assert (records[0].pmc_id, records[0].image_name) == ("PMC111", "a.jpg")
    assert records[0].article_url == "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC111/"


def test_missing_captions_file_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="captions.txt"):
        read_roco(write_roco(tmp_path, skip=("captions",)))


def test_image_path_is_set_whether_or_not_the_image_exists(tmp_path: Path) -> None:
    folder = write_roco(tmp_path)
    (folder / "images").mkdir()
    (folder / "images" / "ROCO_00001.jpg").write_bytes(b"jpeg")
    records, _ = read_roco(folder)
    assert [r.image_path for r in records] == [
        folder / "images" / "ROCO_00001.jpg",
        folder / "images" / "ROCO_00002.jpg",
    ]


# --- finding ROCO folders ---


def make_roco_root(root: Path) -> Path:
    for split in ("train", "validation", "test"):
        for category in ("radiology", "non-radiology"):
            write_roco(root / "data" / split / category)
    return root


def test_dataset_root_data_folder_and_split_folder_all_find_their_roco_folders(tmp_path: Path) -> None:
    root = make_roco_root(tmp_path / "roco-dataset")
    expected = [
        (root / "data" / s / c, s, c)
        for s in ("train", "validation", "test")
        for c in ("radiology", "non-radiology")
    ]
    assert find_roco_folders(root, split=None, category=None) == expected
    assert find_roco_folders(root / "data", split=None, category=None) == expected
    assert find_roco_folders(root / "data" / "test", split=None, category=None) == expected[4:]


def test_split_and_category_arguments_select_folders(tmp_path: Path) -> None:
    root = make_roco_root(tmp_path)
    data = root / "data"
    assert find_roco_folders(root, split="validation", category="radiology") == [
        (data / "validation" / "radiology", "validation", "radiology")
    ]
    assert [f[1:] for f in find_roco_folders(root, split=None, category="non-radiology")] == [
        ("train", "non-radiology"),
        ("validation", "non-radiology"),
        ("test", "non-radiology"),
    ]


def test_single_standard_folder_takes_split_and_category_from_its_names(tmp_path: Path) -> None:
    folder = write_roco(tmp_path / "validation" / "non-radiology")
    assert find_roco_folders(folder, split=None, category=None) == [(folder, "validation", "non-radiology")]


def test_split_and_category_are_read_out_of_hyphenated_folder_names(tmp_path: Path) -> None:
    folder = write_roco(tmp_path / "roco-validation-radiology")
    assert find_roco_folders(folder, split=None, category=None) == [(folder, "validation", "radiology")]
    other = write_roco(tmp_path / "roco_test_non-radiology")
    assert find_roco_folders(other, split=None, category=None) == [(other, "test", "non-radiology")]


def test_the_shared_roco_folder_is_validation_radiology() -> None:
    if not SHARED_ROCO.is_dir():
        pytest.skip(f"the shared ROCO validation/radiology metadata is not at {SHARED_ROCO}")
    assert find_roco_folders(SHARED_ROCO, split=None, category=None) == [
        (SHARED_ROCO, "validation", "radiology")
    ]


def test_nonstandard_folder_takes_split_and_category_from_the_arguments_or_leaves_them_empty(
    tmp_path: Path,
) -> None:
    folder = write_roco(tmp_path / "my-roco-copy")
    assert find_roco_folders(folder, split="train", category="radiology") == [(folder, "train", "radiology")]
    assert find_roco_folders(folder, split=None, category=None) == [(folder, "", "")]


def test_folder_without_roco_data_or_of_another_split_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="captions.txt"):
        find_roco_folders(tmp_path, split=None, category=None)
    folder = write_roco(tmp_path / "validation" / "radiology")
    with pytest.raises(ValueError, match="split 'test'"):
        find_roco_folders(folder, split="test", category=None)
    with pytest.raises(ValueError, match="not a folder"):
        find_roco_folders(tmp_path / "nowhere", split=None, category=None)


# --- ROCOv2 ---


def write_rocov2(root: Path, *, skip: tuple[str, ...] = (), **files: str) -> Path:
    contents = {
        "train_captions.csv": "ID,Caption\n"
        'ROCOv2_2023_train_000001,"CT chest, axial, showing a ""ground-glass"" nodule."\n'
        'ROCOv2_2023_train_000002,"Chest X-ray.\nSecond line of the same caption."\n',
        "train_concepts.csv": "ID,CUIs\n"
        "ROCOv2_2023_train_000001,C0040405;C0817096\n"
        "ROCOv2_2023_train_000002,C1306645\n",
        "valid_captions.csv": "ID,Caption\nROCOv2_2023_valid_000001,Ultrasound of the liver.\n",
        "valid_concepts.csv": "ID,CUIs\nROCOv2_2023_valid_000001,C0041618\n",
        "test_captions.csv": "ID,Caption\nROCOv2_2023_test_000001,MRI of the knee.\n",
        "test_concepts.csv": "ID,CUIs\nROCOv2_2023_test_000001,C0024485\n",
    } | files
    root.mkdir(parents=True, exist_ok=True)
    for name, text in contents.items():
        if name not in skip:
            (root / name).write_text(text, encoding="utf-8")
    return root


def test_rocov2_reads_every_split_with_commas_quotes_and_newlines_in_captions(tmp_path: Path) -> None:
    root = write_rocov2(tmp_path)
    records, problems = read_rocov2(root)
    assert problems == []
    assert [(r.external_id, r.split) for r in records] == [
        ("ROCOv2_2023_train_000001", "train"),
        ("ROCOv2_2023_train_000002", "train"),
        ("ROCOv2_2023_valid_000001", "validation"),
        ("ROCOv2_2023_test_000001", "test"),
    ]
    first, second = records[:2]
    assert first.caption == 'CT chest, axial, showing a "ground-glass" nodule.'
    assert first.cuis == ["C0040405", "C0817096"]
    assert first.image_path == root / "train" / "ROCOv2_2023_train_000001.jpg"
    assert second.caption == "Chest X-ray.\nSecond line of the same caption."
    assert records[2].image_path == root / "valid" / "ROCOv2_2023_valid_000001.jpg"


def test_malformed_rocov2_rows_are_reported_with_their_line_and_skipped(tmp_path: Path) -> None:
    root = write_rocov2(
        tmp_path,
        **{
            "valid_captions.csv": "ID,Caption\n"
            "ROCOv2_2023_valid_000001,Ultrasound of the liver.\n"  # line 2
            ",no id\n"  # line 3
            "ROCOv2_2023_valid_000003,\n"  # line 4
            "ROCOv2_2023_valid_000004,too,many\n"  # line 5
            "ROCOv2_2023_valid_000001,duplicate\n"  # line 6
            "ROCOv2_2023_valid_000007,Fine.\n",  # line 7
            "valid_concepts.csv": "ID,CUIs\n"
            "ROCOv2_2023_valid_000001,C0041618;liver\n"  # line 2
            "ROCOv2_2023_valid_000099,C1\n",  # line 3
        },
    )
    records, problems = read_rocov2(root)
    assert [r.external_id for r in records if r.split == "validation"] == [
        "ROCOv2_2023_valid_000001",
        "ROCOv2_2023_valid_000007",
    ]
    assert where(problems) == [("valid_captions.csv", line) for line in (3, 4, 5, 6)] + [
        ("valid_concepts.csv", 2),
        ("valid_concepts.csv", 3),
    ]
    assert records[2].cuis == []  # its concepts row was malformed


def test_rocov2_missing_concepts_or_split_is_a_problem_and_no_captions_at_all_is_fatal(
    tmp_path: Path,
) -> None:
    root = write_rocov2(tmp_path / "partial", skip=("test_captions.csv", "valid_concepts.csv"))
    records, problems = read_rocov2(root)
    assert len(records) == 3
    assert sorted(where(problems)) == [("test_captions.csv", 0), ("valid_concepts.csv", 0)]
    with pytest.raises(FileNotFoundError, match="train_captions.csv"):
        read_rocov2(tmp_path / "empty")


def test_rocov2_header_without_the_needed_columns_is_one_problem(tmp_path: Path) -> None:
    root = write_rocov2(tmp_path, **{"test_captions.csv": "Name,Text\nx,y\n"})
    records, problems = read_rocov2(root)
    assert len(records) == 3
    assert where(problems) == [("test_captions.csv", 1)]
    assert problems[0].reason == "header lacks column(s) caption, id"


# --- a folder with a captions file ---


def make_images(folder: Path, *names: str) -> Path:
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"image bytes")
    return folder


def test_folder_with_csv_captions_is_read_with_its_optional_columns(tmp_path: Path) -> None:
    folder = make_images(tmp_path / "images", "chest.png", "knee/mri 1.jpg", "head.dcm")
    captions = tmp_path / "captions.csv"
    captions.write_text(
        "file,caption,modality,licence,source,keywords\n"
        'chest.png,"Chest X-ray, PA.",Radiograph (X-ray),CC BY 4.0,https://example.org/chest,chest; lung\n'
        "knee/mri 1.jpg,Knee MRI.,MRI,,Made by the project,\n"
        "head.dcm,Head CT.,,,,\n",
        encoding="utf-8",
    )
    records, problems = read_folder(folder, captions)
    assert problems == []
    chest, knee, head = records
    assert (chest.external_id, chest.caption, chest.modality) == ("chest", "Chest X-ray, PA.", "radiograph")
    assert (chest.licence_raw, chest.source_url, chest.attribution) == (
        "CC BY 4.0",
        "https://example.org/chest",
        "",
    )
    assert chest.keywords == ["chest", "lung"]
    assert chest.image_path == folder / "chest.png"
    assert (knee.external_id, knee.modality, knee.attribution) == ("knee/mri 1", "mri", "Made by the project")
    assert knee.image_path == folder / "knee" / "mri 1.jpg"
    assert (head.external_id, head.modality, head.image_name) == ("head", "", "head.dcm")


def test_folder_with_json_lines_captions_is_read(tmp_path: Path) -> None:
    folder = make_images(tmp_path, "us.jpeg", "ct.PNG")
    captions = tmp_path / "captions.jsonl"
    rows = [
        {"file": "us.jpeg", "caption": "Liver ultrasound.", "modality": "ultrasound", "keywords": ["liver"]},
        {"File": "ct.PNG", "Caption": "Abdominal CT.", "Licence": "CC0"},
    ]
    captions.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    records, problems = read_folder(folder, captions)
    assert problems == []
    assert [(r.external_id, r.modality, r.keywords, r.licence_raw) for r in records] == [
        ("us", "ultrasound", ["liver"], ""),
        ("ct", "", [], "CC0"),
    ]


def test_bad_folder_rows_are_reported_with_their_line_and_skipped(tmp_path: Path) -> None:
    folder = make_images(tmp_path / "images", "a.png", "b.gif", "c.png", "d.png")
    (tmp_path / "outside.png").write_bytes(b"image bytes")
    captions = tmp_path / "captions.csv"
    captions.write_text(
        "file,caption,modality\n"
        "a.png,Fine.,ct\n"  # line 2
        "b.gif,Not an accepted format.,\n"  # line 3
        "c.png,Unknown modality.,PET-MRI-XR\n"  # line 4
        "d.png,,\n"  # line 5
        "missing.png,No such file.,\n"  # line 6
        "../outside.png,Escapes the folder.,\n"  # line 7
        "a.png,Duplicate.,\n"  # line 8
        "c.png,Too,many,fields\n",  # line 9
        encoding="utf-8",
    )
    records, problems = read_folder(folder, captions)
    assert [r.external_id for r in records] == ["a"]
    assert where(problems) == [("captions.csv", line) for line in range(3, 10)]
    assert "unknown modality 'PET-MRI-XR'" in problems[1].reason


def test_bad_json_lines_are_reported_and_skipped(tmp_path: Path) -> None:
    folder = make_images(tmp_path, "a.png")
    captions = tmp_path / "captions.json"
    captions.write_text(
        '{"file": "a.png", "caption": "Fine."}\n{not json\n["a list"]\n{"file": "a.png", "caption": 42}\n'
        '{"file": "a.png", "caption": "x", "keywords": [1, 2]}\n',
        encoding="utf-8",
    )
    records, problems = read_folder(folder, captions)
    assert [r.caption for r in records] == ["Fine."]
    assert where(problems) == [("captions.json", line) for line in (2, 3, 4, 5)]


def test_captions_file_of_another_format_is_refused(tmp_path: Path) -> None:
    captions = tmp_path / "captions.txt"
    captions.write_text("a.png\tcaption\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"\.csv or \.jsonl"):
        read_folder(tmp_path, captions)
