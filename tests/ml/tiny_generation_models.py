"""Tiny generation models saved in the real on-disk formats, loaded back through the real loaders.

- a Stable Diffusion pipeline folder (model_index.json + unet/vae/text_encoder/tokenizer/scheduler) with
  diffusers' own unit-test component sizes and a real CLIP tokenizer built offline from open_clip's BPE;
- an LCM-LoRA adapter for that UNet, saved as diffusers saves LoRA weights
  (pytorch_lora_weights.safetensors, as in latent-consistency/lcm-lora-sdv1-5);
- a GPT-NeoX causal LM (Dolly's architecture) with a byte-level BPE tokenizer trained in milliseconds,
  either with random weights or "scripted": weights set so that it writes a known answer, which lets
  tests check stopping and citations end to end.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.ml.tiny_models import CLIP_CONTEXT_LENGTH, CLIP_VOCAB_SIZE, SEED, _clip_bpe_vocab_and_merges

# diffusers' tests/pipelines/stable_diffusion get_dummy_components(): 32×32 latents, 64×64 images.
UNET_CONFIG = {
    "block_out_channels": (4, 8),
    "layers_per_block": 1,
    "sample_size": 32,
    "in_channels": 4,
    "out_channels": 4,
    "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
    "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
    "cross_attention_dim": 32,
    "norm_num_groups": 2,
}
TINY_IMAGE_SIZE = 64  # sample_size 32 × VAE scale factor 2

DOLLY_SPECIAL_TOKENS = ["### End", "### Instruction:", "### Response:"]
_LM_CORPUS = [
    "Below is an instruction that describes a task.",
    "Write a response that appropriately completes the request.",
    "Explain the medical condition concisely using these findings from a database.",
    "Keep it short and clinical.",
    "Chest X-ray showing a right-sided pneumothorax with collapse of the lung. Air in the pleural space [1].",
    "Axial CT of the abdomen with contrast shows a liver mass. Brain MRI, sagittal T2, ultrasound.",
    "### Instruction:\n### Response:\n### End",
]


def _tiny_unet():
    import torch
    from diffusers import UNet2DConditionModel

    torch.manual_seed(SEED)
    return UNet2DConditionModel(**UNET_CONFIG)


def build_tiny_sd(dirpath: Path) -> Path:
    """A StableDiffusionPipeline folder as `save_pretrained` writes it (and as the hub stores SD-1.x)."""
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    dirpath = Path(dirpath)
    dirpath.mkdir(parents=True, exist_ok=True)
    vocab, merges = _clip_bpe_vocab_and_merges()
    bpe = dirpath / "bpe"
    bpe.mkdir()
    (bpe / "vocab.json").write_text(json.dumps(vocab))
    (bpe / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    # model_max_length as in SD's tokenizer_config.json: the pipeline pads and cuts to it.
    tokenizer = CLIPTokenizer(
        vocab=str(bpe / "vocab.json"), merges=str(bpe / "merges.txt"), model_max_length=CLIP_CONTEXT_LENGTH
    )
    torch.manual_seed(SEED)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=CLIP_VOCAB_SIZE,
            max_position_embeddings=CLIP_CONTEXT_LENGTH,
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            bos_token_id=vocab["<|startoftext|>"],
            eos_token_id=vocab["<|endoftext|>"],
            pad_token_id=vocab["<|endoftext|>"],
        )
    )
    vae = AutoencoderKL(
        block_out_channels=[4, 8],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        latent_channels=4,
        norm_num_groups=2,
    )
    # SD-1.5's own scheduler settings (scheduler/scheduler_config.json).
    scheduler = PNDMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        skip_prk_steps=True,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    pipe = StableDiffusionPipeline(
        unet=_tiny_unet(),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    folder = dirpath / "pipeline"
    pipe.save_pretrained(folder)
    return folder


def build_tiny_lcm_lora(dirpath: Path) -> Path:
    """A LoRA adapter for the tiny UNet's attention projections, in diffusers' LoRA file format."""
    from diffusers import StableDiffusionPipeline
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    dirpath = Path(dirpath)
    unet = _tiny_unet()
    # init_lora_weights=False: random, non-zero weights, so the adapter visibly changes the output.
    unet.add_adapter(
        LoraConfig(
            r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"], init_lora_weights=False
        )
    )
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    StableDiffusionPipeline.save_lora_weights(dirpath, unet_lora_layers=layers, safe_serialization=True)
    return dirpath


def _train_tokenizer(*, end_is_special: bool):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    backend.post_processor = processors.ByteLevel(trim_offsets=False)
    specials = ["<|endoftext|>", *(DOLLY_SPECIAL_TOKENS if end_is_special else [])]
    trainer = trainers.BpeTrainer(
        vocab_size=500,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(_LM_CORPUS * 8, trainer)
    # Dolly's tokenizer: GPT-NeoX's byte-level BPE, <|endoftext|> for everything, Dolly's markers added.
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=specials[1:],
        model_max_length=2048,
    )


def build_tiny_causal_lm(dirpath: Path, *, script: str | None = None, end_is_special: bool = True) -> Path:
    """A GPT-NeoX folder (config.json, model.safetensors, tokenizer.json) like databricks/dolly-v2-3b's.

    With `script`, the weights are set (not trained) so that, after any prompt ending like Dolly's
    template, greedy decoding writes `script` and then "### End": no layers, one-hot token embeddings
    and an output matrix whose row for each script token picks out the token before it. The script's
    tokens must be distinct, which is checked here.
    """
    import torch
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    from apps.ml.prompts import DOLLY_END, dolly_prompt

    dirpath = Path(dirpath)
    dirpath.mkdir(parents=True, exist_ok=True)
    tokenizer = _train_tokenizer(end_is_special=end_is_special)
    tokenizer.save_pretrained(dirpath)
    vocab = len(tokenizer)
    common = {
        "vocab_size": vocab,
        "max_position_embeddings": 2048,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "tie_word_embeddings": False,
    }
    torch.manual_seed(SEED)
    if script is None:
        config = GPTNeoXConfig(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, **common
        )
        GPTNeoXForCausalLM(config).save_pretrained(dirpath)
        return dirpath

    hidden = -(-vocab // 4) * 4  # one dimension per token, rounded up for the attention heads
    config = GPTNeoXConfig(
        hidden_size=hidden, num_hidden_layers=0, num_attention_heads=4, intermediate_size=8, **common
    )
    model = GPTNeoXForCausalLM(config)
    last_prompt_token = tokenizer(dolly_prompt("x"))["input_ids"][-1]
    chain = [last_prompt_token, *tokenizer(script)["input_ids"], *tokenizer(DOLLY_END)["input_ids"]]
    if len(set(chain)) != len(chain):
        raise ValueError(f"the script's tokens must be distinct: {tokenizer.convert_ids_to_tokens(chain)}")
    with torch.no_grad():
        model.gpt_neox.embed_in.weight.copy_(torch.eye(vocab, hidden))
        model.gpt_neox.final_layer_norm.weight.fill_(1.0)
        model.gpt_neox.final_layer_norm.bias.zero_()
        out = torch.zeros(vocab, hidden)
        for before, after in zip(chain, chain[1:], strict=False):
            out[after, before] = 1.0
        model.get_output_embeddings().weight.copy_(out)
    model.save_pretrained(dirpath)
    return dirpath
