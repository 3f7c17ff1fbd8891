"""Text search: the caption space, full text and (when installed) CLIP, fused by reciprocal rank."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from apps.search.channels import ChannelHit, fuse
from apps.search.params import QueryError, clean_query
from apps.search.selectors import text_search
from tests import factories

pytestmark = pytest.mark.django_db

CAPTIONS = [
    "Chest radiograph showing a large right-sided pneumothorax with collapse of the right lung.",
    "Axial CT of the brain showing an acute subdural haematoma.",
    "Sagittal T2-weighted MRI of the knee with a torn anterior cruciate ligament.",
    "Abdominal ultrasound showing gallstones with posterior acoustic shadowing.",
    "Coronary angiography demonstrating stenosis of the left anterior descending artery.",
]


def embed(*spaces: str) -> None:
    args = [arg for space in spaces for arg in ("--space", space)]
    call_command("embed", *args, stdout=io.StringIO(), stderr=io.StringIO())


def test_the_caption_matching_image_comes_first():
    stored = factories.images(*CAPTIONS)
    embed("caption")

    result = text_search(query="collapsed lung on a chest x-ray", k=5)

    assert result.hits[0].image == stored[0]
    assert set(result.channels) == {"caption", "text"}
    assert "caption" in result.hits[0].channels


def test_a_paraphrase_without_shared_words_is_found_by_the_caption_space():
    stored = factories.images(*CAPTIONS)
    embed("caption")

    result = text_search(query="bleeding between the skull and the cerebrum", k=3)

    assert result.hits[0].image == stored[1]
    assert set(result.hits[0].channels) == {"caption"}  # no word in common: full text cannot find it


def test_results_say_which_channels_found_them_and_scores_are_fractions():
    factories.images(*CAPTIONS)
    embed("caption")

    result = text_search(query="pneumothorax chest radiograph", k=5)

    top = result.hits[0]
    assert set(top.channels) == {"caption", "text"}
    assert top.channels["text"].rank == 1 and top.channels["caption"].rank == 1
    assert top.found_by == 2 and top.ways == 2
    assert top.percent == round(top.channels["caption"].similarity * 100) < 100  # a similarity, not a rank
    assert all(0 < hit.score <= 1 for hit in result.hits)
    assert [hit.score for hit in result.hits] == sorted((hit.score for hit in result.hits), reverse=True)


def test_fusion_ranks_an_item_found_by_two_channels_above_one_found_by_one():
    rankings = {
        "caption": [(1, 0.9), (2, 0.8), (3, 0.7)],
        "text": [(2, 0.5), (4, 0.4)],
    }
    fused = fuse(rankings, rrf_k=60)
    order = [image_id for image_id, _, _ in fused]
    assert order[0] == 2  # 1/62 + 1/61 beats 1/61 alone
    assert order.index(1) < order.index(4)
    top_channels = fused[0][2]
    assert top_channels == {
        "caption": ChannelHit(rank=2, similarity=0.8),
        "text": ChannelHit(rank=1, similarity=0.5),
    }
    assert fused[0][1] == pytest.approx((1 / 62 + 1 / 61) / (2 / 61))


def test_paging_walks_through_the_results_without_overlap():
    factories.images(*[f"Chest radiograph number {n} of a patient with pneumonia." for n in range(25)])
    embed("caption")

    pages = [text_search(query="pneumonia chest radiograph", k=10, page=p) for p in (1, 2, 3)]

    ids = [[hit.image.pk for hit in page.hits] for page in pages]
    assert [len(p) for p in ids] == [10, 10, 5]
    assert len(set(ids[0]) | set(ids[1]) | set(ids[2])) == 25
    assert pages[0].has_next and pages[1].has_next and not pages[2].has_next
    assert pages[1].first_rank == 11 and pages[1].last_rank == 20


def test_metadata_only_entries_are_kept_out_of_text_search():
    factories.images("Chest radiograph with pneumothorax, image present.")
    factories.images("Chest radiograph with pneumothorax, image missing.", with_image=False)
    embed("caption")

    result = text_search(query="pneumothorax", k=10)

    assert [hit.image.caption for hit in result.hits] == [
        "Chest radiograph with pneumothorax, image present."
    ]
    assert text_search(query="pneumothorax", k=10, require_file=False).total == 2


def test_a_repeated_query_is_not_encoded_again():
    from apps.corpus.spaces import CAPTION, configured_spaces
    from apps.ml.encoders import load_encoder

    factories.images(*CAPTIONS)
    embed("caption")
    encoder = load_encoder(configured_spaces()[CAPTION].model)
    query = "a query text seen for the first time 4711"

    text_search(query=query, k=3)
    before = encoder.query_cache_info()
    text_search(query=query, k=3)
    after = encoder.query_cache_info()

    assert after.misses == before.misses
    assert after.hits == before.hits + 1


def test_offline_the_clip_channel_is_off_and_says_so_in_one_line():
    factories.images(*CAPTIONS)
    embed("caption")

    result = text_search(query="pneumothorax", k=3)

    assert "clip" not in result.channels
    assert result.notices == [
        "Matching your words to the pictures themselves is not available on this server, so these results "
        "come from the captions."
    ]
    assert len(result.admin_notes) == 1 and "CLIP image space" in result.admin_notes[0]  # why, for staff


def test_with_a_clip_model_installed_the_clip_channel_joins_the_fusion(settings, tiny_clip_dir):
    settings.MIRAGE_CLIP_MODEL = str(tiny_clip_dir)
    settings.MIRAGE_SIMILARITY_FLOOR_CLIP = -1.0  # the tiny untrained model's similarities mean nothing
    factories.images(*CAPTIONS)
    embed("caption", "clip")

    result = text_search(query="pneumothorax", k=5)

    assert set(result.channels) == {"clip", "caption", "text"}
    assert result.notices == []
    assert any("clip" in hit.channels for hit in result.hits)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "Type what you are looking for"),
        ("   \t\n ", "Type what you are looking for"),
        ("x" * 1001, "limit is 1000"),
    ],
)
def test_empty_blank_and_overlong_queries_are_refused_with_a_clear_message(text, message):
    with pytest.raises(QueryError, match=message):
        clean_query(text)


def test_a_query_of_exactly_1000_characters_is_accepted():
    assert len(clean_query("a" * 1000)) == 1000


def test_full_text_ranks_the_captions_holding_the_querys_uncommon_words(monkeypatch):
    from apps.corpus.models import Image
    from apps.corpus.services import corpus_statistics_refresh
    from apps.search import channels

    monkeypatch.setattr(channels, "FULL_TEXT_CANDIDATES", 20)
    factories.images(*(f"Chest radiograph number {n}, no finding." for n in range(40)), with_image=False)
    holding = factories.images(
        "Chest radiograph showing a right pneumothorax.",
        "CT of the thorax: a small pneumothorax.",
        with_image=False,
    )
    corpus_statistics_refresh()  # ANALYZE: PostgreSQL counts the caption words

    ranked = channels.full_text_images(query="chest pneumothorax", limit=50, among=Image.objects.all())
    common_only = channels.full_text_images(query="chest radiograph", limit=50, among=Image.objects.all())

    # Only the captions holding the rare word are ranked (the 41 with "chest" would pass 20); the one
    # that also says "chest" comes first.
    assert [pk for pk, _ in ranked] == [image.pk for image in holding]
    # Common words alone: captions holding one of them, at most 2 × FULL_TEXT_CANDIDATES.
    assert len(common_only) == 40


def test_without_word_statistics_full_text_ranks_every_caption_holding_a_query_word():
    from apps.corpus.models import Image
    from apps.search.channels import full_text_images

    stored = factories.images(*(f"Chest radiograph number {n}." for n in range(30)), with_image=False)

    ranked = full_text_images(query="chest pneumothorax", limit=50, among=Image.objects.all())

    assert {pk for pk, _ in ranked} == {image.pk for image in stored}
