"""The generation and description pages through Django's test client, and who may see what."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

from apps.generation import services
from apps.generation.models import Job
from apps.generation.worker import process_one
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(client):
    user = factories.user()
    client.force_login(user)
    return user


def generated_job(author, **params) -> Job:
    services.generation_submit(owner=author, prompt="chest x-ray with pneumothorax", seed=77, **params)
    return process_one()


@pytest.mark.parametrize("name", ["generate", "describe", "jobs", "my_images"])
def test_anonymous_visitors_are_sent_to_log_in_and_come_back_with_their_query(client, name):
    url = reverse(f"generation:{name}") + "?prompt=brain+MRI"

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse(settings.LOGIN_URL))
    assert "prompt%3Dbrain%2BMRI" in response["Location"]


def test_the_form_is_prefilled_from_the_query_string_and_says_what_it_is_for(client, author):
    response = client.get(
        reverse("generation:generate"), {"prompt": "chest x-ray + pneumothorax", "seed": "5"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "chest x-ray + pneumothorax</textarea>" in page
    assert 'name="seed" value="5"' in page
    assert "For education, not diagnosis" in page and "SYNTHETIC" in page


def test_bad_parameters_get_one_clear_message_and_a_400(client, author):
    response = client.post(
        reverse("generation:generate"),
        {"prompt": "brain MRI", "mode": "quality", "steps": "10", "count": "1"},
    )

    assert response.status_code == 400
    assert "In quality mode, steps must be from 25 to 50." in response.content.decode()
    assert not Job.objects.exists()


def test_too_many_waiting_jobs_get_a_429_with_the_reason(client, author):
    for _ in range(settings.MIRAGE_JOBS_ACTIVE_PER_USER):
        services.generation_submit(owner=author, prompt="brain MRI")

    response = client.post(
        reverse("generation:generate"), {"prompt": "brain MRI", "mode": "fast", "count": "1"}
    )

    assert response.status_code == 429
    assert "already have 3 jobs waiting or running" in response.content.decode()


def test_a_valid_request_is_queued_and_the_job_page_shows_its_progress(client, author):
    response = client.post(
        reverse("generation:generate"), {"prompt": "brain MRI", "mode": "fast", "seed": "3", "count": "2"}
    )

    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("generation:job", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Queued" in page and "waiting for a worker" in page
    assert "Cancel this job" in page
    assert f'hx-get="{reverse("generation:job_status", args=[job.pk])}"' in page
    assert 'hx-trigger="every 1s"' in page and "htmx.min.js" in page
    assert "<noscript>" in page and "<code>3</code>" in page


def test_the_live_part_reports_running_steps_and_stops_polling_when_finished(client, author):
    job = services.generation_submit(owner=author, prompt="brain MRI")
    Job.objects.filter(pk=job.pk).update(
        status=Job.RUNNING,
        progress_current=2,
        progress_total=4,
        progress_message="denoising step 2 of 4",
        attempts=1,
    )
    url = reverse("generation:job_status", args=[job.pk])

    running = client.get(url).content.decode()
    Job.objects.filter(pk=job.pk).update(status=Job.FAILED, error="The image model is not installed.")
    failed = client.get(url).content.decode()

    assert "denoising step 2 of 4" in running and '<progress max="4" value="2"' in running
    assert "hx-trigger" in running
    assert "Failed:" in failed and "The image model is not installed." in failed
    assert "hx-trigger" not in failed and "Cancel this job" not in failed


def test_cancelling_a_queued_job_from_its_page(client, author):
    job = services.generation_submit(owner=author, prompt="brain MRI")

    response = client.post(reverse("generation:job_cancel", args=[job.pk]), follow=True)

    job.refresh_from_db()
    assert job.status == Job.CANCELLED
    assert "cancelled before it started" in response.content.decode()


def test_cancelling_a_finished_job_says_so_with_a_409(client, author):
    job = services.generation_submit(owner=author, prompt="brain MRI")
    Job.objects.filter(pk=job.pk).update(status=Job.SUCCEEDED)

    response = client.post(reverse("generation:job_cancel", args=[job.pk]))

    assert response.status_code == 409 and "already finished" in response.content.decode()


def test_a_job_page_is_its_owners_alone(client, author):
    job = services.generation_submit(owner=author, prompt="brain MRI")
    client.force_login(factories.user())

    for name in ("job", "job_status"):
        assert client.get(reverse(f"generation:{name}", args=[job.pk])).status_code == 404
    assert client.post(reverse("generation:job_cancel", args=[job.pk])).status_code == 404
    job.refresh_from_db()
    assert job.status == Job.QUEUED


def test_a_generated_image_is_seen_by_its_author_and_by_no_one_else_until_approved(
    client, author, tiny_models
):
    job = generated_job(author)
    image_id = job.result["images"][0]
    image_url = reverse("corpus:image_detail", args=[image_id])

    job_page = client.get(reverse("generation:job", args=[job.pk])).content.decode()
    own = client.get(image_url)
    mine = client.get(reverse("generation:my_images")).content.decode()
    client.force_login(factories.user())
    other = client.get(image_url)
    client.logout()
    anonymous = client.get(image_url)

    assert "Done" in job_page and image_url in job_page and "pending review" in job_page
    assert own.status_code == 200 and "How this synthetic image was made" in own.content.decode()
    assert "chest x-ray with pneumothorax" in own.content.decode() and "77" in own.content.decode()
    assert image_url in mine
    assert other.status_code == 404 and anonymous.status_code == 404


def test_search_results_offer_generate_and_describe_for_the_query(client, author):
    factories.images("Chest X-ray: pneumothorax.")

    page = client.get(reverse("search:search"), {"q": "pneumothorax"}).content.decode()

    assert f'href="{reverse("generation:generate")}?prompt=pneumothorax"' in page
    assert f'action="{reverse("generation:describe")}"' in page and 'name="q" value="pneumothorax"' in page


def test_a_search_page_checks_the_installed_models_once(client, author, monkeypatch):
    """Its result actions and its ask-again button both say what this server can run: one check of
    the model folders serves them (the page is the platform's busiest)."""
    from apps.generation import selectors

    checks = []

    def counted(spec):
        checks.append(spec)
        return check(spec)

    check = selectors.check_diffusion_model
    monkeypatch.setattr(selectors, "check_diffusion_model", counted)
    factories.images("Chest X-ray: pneumothorax.")

    page = client.get(reverse("search:search"), {"q": "pneumothorax"}).content.decode()

    assert f'action="{reverse("generation:describe")}"' in page  # the actions are there
    assert len(checks) == 1


def test_a_real_image_page_offers_to_generate_from_its_caption(client, author):
    (image,) = factories.images("Chest X-ray: pneumothorax.")

    page = client.get(reverse("corpus:image_detail", args=[image.pk])).content.decode()

    assert f"{reverse('generation:generate')}?prompt=Chest%20X-ray%3A%20pneumothorax." in page


def test_the_describe_page_shows_the_captions_the_model_will_be_given(client, author):
    (image,) = factories.images("Chest X-ray: right pneumothorax.")

    page = client.get(reverse("generation:describe"), {"q": "pneumothorax", "k": "3"}).content.decode()

    assert "Chest X-ray: right pneumothorax." in page
    assert reverse("corpus:image_detail", args=[image.pk]) in page


def test_a_comparison_link_previews_both_conditions_with_the_default_number_of_captions(client, author):
    factories.images("Chest X-ray: right pneumothorax.", "CT angiography: pulmonary embolism.")

    response = client.get(reverse("generation:describe"), {"q": "pneumothorax", "q2": "embolism"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Captions for <q>pneumothorax</q>" in page and "Captions for <q>embolism</q>" in page
    assert 'name="k" value="3"' in page


def test_a_description_shows_numbered_citations_linking_to_their_images_and_the_exact_prompt(
    client, author, tiny_models
):
    first, second = factories.images("Chest X-ray: right pneumothorax.", "CT: apical pneumothorax.")
    response = client.post(reverse("generation:describe"), {"q": "pneumothorax", "k": "2"})
    job = process_one()

    page = client.get(response["Location"]).content.decode()

    assert job.status == Job.SUCCEEDED
    cited = job.params["items"][0]["sources"][0]["image_id"]
    # "[1]" in the answer links to source 1's image page.
    assert re.search(rf'<a href="{reverse("corpus:image_detail", args=[cited])}"[^>]*>\[1\]</a>', page)
    for image in (first, second):
        assert reverse("corpus:image_detail", args=[image.pk]) in page
    assert "<details" in page and "Show prompt" in page
    assert "Explain the medical condition &#x27;pneumothorax&#x27; concisely" in page
    assert "### Instruction:" in page


def test_without_the_configured_language_model_smollm2_answers_and_the_page_says_so(
    client, author, tiny_models, settings
):
    settings.MIRAGE_LLM_MODEL = "nobody-here/no-such-llm"
    factories.images("Chest X-ray: right pneumothorax.")
    response = client.post(reverse("generation:describe"), {"q": "pneumothorax", "k": "1"})
    job = process_one()

    page = client.get(response["Location"]).content.decode()

    assert job.status == Job.SUCCEEDED, job.error
    assert "The configured language model is not installed on this server." in page
    assert "The bundled SmolLM2-135M-Instruct answered instead" in page
    assert "nobody-here/no-such-llm" not in page and "manage.py" not in page  # admin words stay out
    assert (
        'Written by <strong class="answered-by">SmolLM2-135M-Instruct</strong> (the offline fallback)' in page
    )
    assert "&lt;|im_start|&gt;user" in page  # its own chat template, shown under "Show prompt"


def test_the_nav_links_to_generation_and_my_images(client, author):
    page = client.get(reverse("search:search")).content.decode()

    assert reverse("generation:generate") in page and reverse("generation:my_images") in page


def test_the_web_side_of_generation_imports_no_model_library():
    """Pages, services and selectors never load torch, diffusers or transformers; only the worker does."""
    code = (
        "import django, sys; django.setup(); import mirage_site.urls, apps.generation.views, "
        "apps.generation.services, apps.generation.selectors, apps.generation.tasks; "
        "print(sorted(m for m in ('torch', 'diffusers', 'transformers', 'peft', 'gguf') if m in sys.modules))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mirage_site.settings"}
    root = settings.BASE_DIR
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True
    )

    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_jobs_page_lists_every_job_page_by_page_newest_first(client, author):
    from apps.generation.selectors import JOBS_PAGE

    Job.objects.bulk_create(
        Job(kind=Job.GENERATE, owner=author, params={"prompt": f"finding {n}"}) for n in range(JOBS_PAGE + 1)
    )
    oldest = Job.objects.order_by("pk").first()

    first = client.get(reverse("generation:jobs")).content.decode()
    second = client.get(reverse("generation:jobs"), {"page": 2}).content.decode()

    assert "Page 1 of 2" in first and reverse("generation:job", args=[oldest.pk]) not in first
    assert reverse("generation:job", args=[oldest.pk]) in second


def test_a_full_queue_says_so_on_the_page_with_a_503(client, author, settings):
    settings.MIRAGE_QUEUE_MAX = 1
    services.generation_submit(owner=factories.user(), prompt="brain MRI")

    response = client.post(
        reverse("generation:generate"), {"prompt": "brain MRI", "mode": "fast", "count": "1"}
    )

    assert response.status_code == 503
    assert "The workers are busy" in response.content.decode()


# --- What this server can run, said up front -------------------------------------------------------


def _diffusion_missing(settings):
    settings.MIRAGE_DIFFUSION_MODEL = "nobody-here/no-such-diffusion-model"


def test_without_the_diffusion_model_a_student_reads_one_plain_sentence_and_the_form_is_disabled(
    client, author, settings
):
    _diffusion_missing(settings)

    page = client.get(reverse("generation:generate"), {"prompt": "brain MRI"}).content.decode()

    assert "Generating images is not available on this server." in page
    assert "<fieldset disabled>" in page
    assert "manage.py" not in page and "nobody-here" not in page


def test_an_administrator_also_reads_the_command_that_installs_the_diffusion_model(client, settings):
    _diffusion_missing(settings)
    client.force_login(factories.user(is_staff=True))

    page = client.get(reverse("generation:generate")).content.decode()

    assert "Generating images is not available on this server." in page
    assert "manage.py models pull diffusion" in page


def test_a_post_to_the_generate_page_without_the_model_queues_nothing(client, author, settings):
    _diffusion_missing(settings)

    response = client.post(
        reverse("generation:generate"), {"prompt": "brain MRI", "mode": "quality", "count": "1"}
    )

    assert response.status_code == 409  # what this server cannot do is a 4xx, not a server error
    assert "Generating images is not available on this server." in response.content.decode()
    assert not Job.objects.exists()


def test_with_the_models_installed_the_generate_page_offers_the_form(client, author, tiny_models):
    page = client.get(reverse("generation:generate")).content.decode()

    assert "not available on this server" not in page and "<fieldset>" in page


def test_search_results_offer_no_generate_link_when_the_model_is_missing(client, author, settings):
    _diffusion_missing(settings)
    factories.images("Chest X-ray: right pneumothorax.")

    page = client.get(reverse("search:search"), {"q": "pneumothorax"}).content.decode()

    assert "Generating images is not available on this server." in page
    assert reverse("generation:generate") + "?prompt=" not in page
    actions = page.split('class="actions search-actions"')[1].split("</div>")[0]
    assert "manage.py" not in actions  # (the search notices are the search pages' own)


def test_generate_again_is_replaced_by_the_plain_sentence_once_the_model_is_gone(client, author, settings):
    job = generated_job(author)
    _diffusion_missing(settings)

    page = client.get(reverse("generation:job", args=[job.pk])).content.decode()

    assert "Generate again with these settings" not in page
    assert "Generating images is not available on this server." in page


def _fast_mode_missing(settings):
    settings.MIRAGE_DIFFUSION_LORA = "nobody-here/no-such-lcm-lora"


def test_without_the_fast_adapter_fast_mode_is_disabled_and_quality_chosen_up_front(client, author, settings):
    _fast_mode_missing(settings)

    page = client.get(reverse("generation:generate"), {"prompt": "brain MRI"}).content.decode()

    assert re.search(r'<input type="radio" name="mode" value="fast"[^>]* disabled', page)
    assert re.search(r'<input type="radio" name="mode" value="quality"[^>]* checked', page)
    assert (
        "(quality mode only)" in page
        and "Fast mode is not available on this server; quality mode is." in page
    )
    assert "nobody-here" not in page and "manage.py" not in page


def test_making_a_fast_image_again_without_the_adapter_starts_from_quality_settings(client, author, settings):
    _fast_mode_missing(settings)

    page = client.get(
        reverse("generation:generate"),
        {"prompt": "brain MRI", "mode": "fast", "steps": "4", "guidance": "1.5"},
    ).content.decode()

    assert re.search(r'value="quality"[^>]* checked', page)
    assert 'name="steps" value="4"' not in page  # 4 steps is no quality-mode setting


def test_the_generate_page_names_the_installed_models(client, author, tiny_models):
    page = client.get(reverse("generation:generate")).content.decode()

    assert "Installed here: pipeline, with the LCM-LoRA adapter for fast mode." in page
    assert "disabled" not in page.split('name="mode"')[1].split(">")[0]


def test_a_real_image_page_offers_no_generate_link_when_the_model_is_missing(client, author, settings):
    _diffusion_missing(settings)
    (image,) = factories.images("Chest X-ray: pneumothorax.")

    page = client.get(reverse("corpus:image_detail", args=[image.pk])).content.decode()

    assert "Generate a synthetic image from this caption" not in page
    assert reverse("generation:generate") + "?prompt=" not in page
