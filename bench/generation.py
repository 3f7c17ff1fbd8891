"""How long generation and descriptions take on this machine, with the real models' architectures.

The weights are random (the hub is out of reach here) but the sizes are the real ones, so the timing
is what the real models cost:
  - Stable Diffusion 1.5 (Prompt2MedImage's architecture): CLIP ViT-L/14 text encoder, the 860M UNet
    and the VAE, one 512×512 image, classifier-free guidance (two UNet passes per step) as both modes
    use it; fast = LCM 4 steps, quality = 25 steps;
  - GPT-NeoX 2.8B (databricks/dolly-v2-3b: hidden 2560, 32 layers, 32 heads, vocabulary 50280):
    a description-sized prompt, then tokens per second while writing;
  - SmolLM2-135M-Instruct, the bundled offline fallback, with its real weights.

On a GPU it runs the real step and token counts in float16. On a CPU it runs 2 steps and a few tokens
and extrapolates from the time per step, in bfloat16 unless --dtype says otherwise, so that it ends in
minutes. The LCM-LoRA adapter's own (small) matrices are not included: a fused adapter costs nothing.

    .venv/bin/python bench/generation.py [--dtype bf16|fp16|fp32] [--tokens N] [--threads N] [--skip-lm]
    .venv/bin/python bench/generation.py --quick   # the same code path on narrow models: seconds, not minutes

--quick times scaled-down versions of the same architectures (Stable Diffusion's blocks at 1/10 of the
widths, 64×64 pixels; GPT-NeoX with 2 layers of width 256) and leaves SmolLM2 out: it checks that the
benchmark runs and prints its table, and says nothing of the real models' speed.

On a CPU shared with other busy processes, torch's threads spin against them and times swing several-
fold; --threads 1 gives steadier (if slower) numbers there.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROMPT = "Chest X-ray with a large right-sided pneumothorax and a collapsed lung"
# A description prompt: the paper's instruction with three ROCO-length captions, in Dolly's template.
CAPTIONS = [
    "Chest radiograph (posteroanterior view) showing a large right-sided pneumothorax with complete collapse "
    "of the right lung and mediastinal shift to the left, consistent with tension physiology.",
    "Axial CT of the chest in lung window demonstrating a right apical pneumothorax with subcutaneous "
    "emphysema after central venous catheter insertion.",
    "Supine anteroposterior radiograph in an intensive care patient: deep sulcus sign on the right, "
    "indicating an anterior pneumothorax.",
]


def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


# Image side in pixels: 512 for the real models, 64 for --quick's narrow ones.
SIZE = {"full": 512, "quick": 64}


def sd15_pipeline(device: str, dtype, *, quick: bool = False):
    """Stable Diffusion 1.5's components, from their published configs, with random weights (with
    `quick`, the same blocks at a tenth of the widths)."""
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    from tests.ml.tiny_models import _clip_bpe_vocab_and_merges

    vocab, merges = _clip_bpe_vocab_and_merges()
    folder = Path(tempfile.mkdtemp())
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77)
    torch.manual_seed(0)
    width = 64 if quick else 768
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=49408,
            hidden_size=width,
            intermediate_size=4 * width,
            num_hidden_layers=2 if quick else 12,
            num_attention_heads=4 if quick else 12,
            max_position_embeddings=77,
            hidden_act="quick_gelu",
        )
    )
    unet = UNet2DConditionModel(
        sample_size=8 if quick else 64,
        in_channels=4,
        out_channels=4,
        layers_per_block=2,
        block_out_channels=(32, 64, 128, 128) if quick else (320, 640, 1280, 1280),
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        cross_attention_dim=width,
        attention_head_dim=8,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 4,
        up_block_types=["UpDecoderBlock2D"] * 4,
        block_out_channels=[32, 32, 64, 64] if quick else [128, 256, 512, 512],
        layers_per_block=2,
        latent_channels=4,
        sample_size=64 if quick else 512,
    )
    scheduler = PNDMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", skip_prk_steps=True, steps_offset=1
    )
    pipe = StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    params = sum(p.numel() for p in unet.parameters()) / 1e6
    return pipe.to(device, dtype), params


def time_run(
    pipe, *, steps: int, guidance: float, device: str, decode: bool = True, size: int = 512
) -> tuple[float, list[float]]:
    """Seconds for one size×size image, and the times at which each step ended (from the start).
    Without `decode`, the run stops at the latents."""
    import torch

    marks: list[float] = []

    def step_end(pipe, step, timestep, tensors):
        sync(device)
        marks.append(time.perf_counter() - start)
        return tensors

    generator = torch.Generator("cpu").manual_seed(0)
    sync(device)
    start = time.perf_counter()
    pipe(
        prompt=PROMPT,
        negative_prompt="text, arrows",
        num_inference_steps=steps,
        guidance_scale=guidance,
        generator=generator,
        height=size,
        width=size,
        callback_on_step_end=step_end,
        output_type="pil" if decode else "latent",
    )
    sync(device)
    return time.perf_counter() - start, marks


def bench_diffusion(device: str, dtype, rows: list[tuple[str, str, str]], *, quick: bool = False) -> None:
    from diffusers import LCMScheduler

    pipe, unet_params = sd15_pipeline(device, dtype, quick=quick)
    size = SIZE["quick" if quick else "full"]
    quality_scheduler = pipe.scheduler
    lcm_scheduler = LCMScheduler.from_config(pipe.scheduler.config)
    where = f"{device}, {str(dtype).removeprefix('torch.')}"
    time_run(
        pipe, steps=1, guidance=7.5, device=device, decode=False, size=size
    )  # warm-up: kernels, allocations

    if device.startswith("cuda"):
        for label, scheduler, steps, guidance in (
            ("fast: LCM, 4 steps, guidance 1.5", lcm_scheduler, 4, 1.5),
            ("quality: 25 steps, guidance 7.5", quality_scheduler, 25, 7.5),
        ):
            pipe.scheduler = scheduler
            seconds, _ = time_run(pipe, steps=steps, guidance=guidance, device=device, size=size)
            rows.append((f"SD-1.5 ({unet_params:.0f}M UNet) {label}", where, f"{seconds:.2f} s per image"))
        return

    # The parts, each timed on its own: prompt encoding, two UNet steps, the VAE decode.
    import torch

    with torch.inference_mode():
        sync(device)
        start = time.perf_counter()
        pipe.encode_prompt(PROMPT, device, 1, True, "text, arrows")
        sync(device)
        encode = time.perf_counter() - start
    _, marks = time_run(pipe, steps=2, guidance=7.5, device=device, decode=False, size=size)
    per_step = (marks[1] - encode) / 2
    latents = torch.randn(1, 4, size // 8, size // 8, generator=torch.Generator("cpu").manual_seed(0)).to(
        device, dtype
    )
    with torch.inference_mode():
        start = time.perf_counter()
        image = pipe.vae.decode(latents / pipe.vae.config.scaling_factor).sample
        pipe.image_processor.postprocess(image, output_type="pil")
        decode = time.perf_counter() - start
    rows.append(("SD-1.5 text encoder (prompt + negative prompt)", where, f"{encode:.2f} s"))
    rows.append(
        (f"SD-1.5 UNet ({unet_params:.0f}M), one step, 2 passes (CFG)", where, f"{per_step:.2f} s per step")
    )
    rows.append((f"SD-1.5 VAE decode, {size}×{size}", where, f"{decode:.2f} s"))
    for label, steps in (("fast: LCM, 4 steps", 4), ("quality: 25 steps", 25)):
        estimate = encode + steps * per_step + decode
        rows.append((f"SD-1.5 {label} (from the parts)", where, f"{estimate:.1f} s per image"))


def description_prompt() -> str:
    from apps.ml.prompts import description_instruction, dolly_prompt

    return dolly_prompt(description_instruction("pneumothorax", CAPTIONS))


def time_tokens(model, input_ids, *, tokens: int, device: str, pad: int) -> tuple[float, float]:
    """(seconds to read the prompt and write the first token, tokens per second after it), from the
    time each token came out of one greedy run."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    marks: list[float] = []

    class Clock(StoppingCriteria):
        def __call__(self, ids, scores, **kwargs):
            sync(device)
            marks.append(time.perf_counter())
            return torch.zeros(ids.shape[0], dtype=torch.bool, device=ids.device)

    input_ids = input_ids.to(device)
    common = {"do_sample": False, "pad_token_id": pad, "attention_mask": torch.ones_like(input_ids)}
    with torch.inference_mode():
        model.generate(input_ids, max_new_tokens=2, min_new_tokens=2, **common)  # warm-up
        sync(device)
        start = time.perf_counter()
        model.generate(
            input_ids,
            max_new_tokens=tokens,
            min_new_tokens=tokens,
            stopping_criteria=StoppingCriteriaList([Clock()]),
            **common,
        )
    return marks[0] - start, (len(marks) - 1) / (marks[-1] - marks[0])


def bench_language_models(
    device: str, dtype, tokens: int, rows: list[tuple[str, str, str]], *, quick: bool = False
) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GPTNeoXConfig, GPTNeoXForCausalLM

    from apps.ml.describer import fallback_spec

    where = f"{device}, {str(dtype).removeprefix('torch.')}"
    prompt = description_prompt()
    # databricks/dolly-v2-3b's config.json.
    config = GPTNeoXConfig(
        vocab_size=50280,
        hidden_size=256 if quick else 2560,
        num_hidden_layers=2 if quick else 32,
        num_attention_heads=4 if quick else 32,
        intermediate_size=1024 if quick else 10240,
        rotary_pct=0.25,
        max_position_embeddings=2048,
        use_parallel_residual=True,
        tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    started = time.perf_counter()
    model = GPTNeoXForCausalLM._from_config(config, dtype=dtype).to(device).eval()
    built = time.perf_counter() - started
    params = sum(p.numel() for p in model.parameters()) / 1e9
    # GPT-NeoX's BPE writes English at about 4 characters a token; the ids themselves do not matter.
    n_prompt = len(prompt) // 4
    input_ids = torch.randint(0, config.vocab_size, (1, n_prompt))
    first, rate = time_tokens(model, input_ids, tokens=tokens, device=device, pad=0)
    label = f"GPT-NeoX {params:.2f}B ({'narrowed ' if quick else ''}dolly-v2-3b)"
    rows.append((f"{label}: random init", where, f"{built:.0f} s"))
    rows.append((f"{label}: read {n_prompt}-token prompt + 1st token", where, f"{first:.2f} s"))
    rows.append((f"{label}: writing ({tokens} tokens)", where, f"{rate:.2f} tokens/s"))
    del model

    spec = fallback_spec()
    if quick:  # de-quantizing its GGUF alone takes 10-25 s on this CPU
        rows.append(("SmolLM2-135M-Instruct (fallback)", where, "left out of --quick"))
        return
    if spec is None:
        rows.append(("SmolLM2-135M-Instruct (fallback)", where, "not installed"))
        return
    path = Path(spec)
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    # float32, as the worker loads it: transformers computes with the packed GGUF weights in float32.
    where = f"{device}, float32"
    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)
    model = model.to(device).eval()
    loaded = time.perf_counter() - started
    chat = tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
    )
    input_ids = tokenizer(chat, return_tensors="pt", add_special_tokens=False)["input_ids"]
    first, rate = time_tokens(model, input_ids, tokens=tokens, device=device, pad=tokenizer.eos_token_id)
    rows.append(("SmolLM2-135M-Instruct (fallback, real weights): load GGUF", where, f"{loaded:.1f} s"))
    rows.append(
        (
            f"SmolLM2-135M-Instruct: read {input_ids.shape[1]}-token prompt + 1st token",
            where,
            f"{first:.2f} s",
        )
    )
    rows.append((f"SmolLM2-135M-Instruct: writing ({tokens} tokens)", where, f"{rate:.1f} tokens/s"))


def main() -> None:
    import torch

    from apps.ml.device import pick_device

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dtype", choices=["bf16", "fp16", "fp32"], help="default: fp16 on GPU, bf16 on CPU")
    parser.add_argument("--tokens", type=int, help="tokens to write (default: 256 on GPU, 8 on CPU)")
    parser.add_argument("--skip-lm", action="store_true", help="only the diffusion model")
    parser.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    parser.add_argument(
        "--quick", action="store_true", help="narrow versions of the models: the code path only"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    device = pick_device()
    gpu = device.startswith("cuda")
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[
        args.dtype or ("fp16" if gpu else "bf16")
    ]
    tokens = args.tokens or (256 if gpu else 4 if args.quick else 8)
    name = torch.cuda.get_device_name(device) if gpu else f"CPU, {torch.get_num_threads()} threads"
    print(f"MIRAGE generation bench on {name} (torch {torch.__version__})", flush=True)
    if args.quick:
        print("quick: narrow models of the same architectures (the code path, not the real speed)")

    rows: list[tuple[str, str, str]] = []
    bench_diffusion(device, dtype, rows, quick=args.quick)
    if not args.skip_lm:
        bench_language_models(device, dtype, tokens, rows, quick=args.quick)

    width = max(len(row[0]) for row in rows)
    where_width = max(len(row[1]) for row in rows)
    print(f"\n{'what':<{width}}  {'where':<{where_width}}  time")
    print(f"{'-' * width}  {'-' * where_width}  {'-' * 20}")
    for what, where, value in rows:
        print(f"{what:<{width}}  {where:<{where_width}}  {value}")
    print("\n" + json.dumps({"device": name, "rows": rows}))


if __name__ == "__main__":
    main()
