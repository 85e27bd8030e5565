"""Tiny GPT-2-style and T5-style models with a locally trained tokenizer, in seconds on CPU.

The cluster's notebooks and CI cannot download from a model hub, yet courses, sandboxes and
tests need real ``from_pretrained`` checkpoints. These builders write one to a directory:
random weights (seeded, so the same call gives the same model), a byte-level BPE tokenizer
trained on a small built-in corpus, and optionally a chat template. Shapes are parameters, so
the same builder also makes a GPT-2-small-shaped model for benchmarks.

Stable API (other notebooks rely on it): ``build_tiny_causal_lm``, ``build_tiny_seq2seq``,
``train_constant_answer``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

SPECIAL_TOKENS = {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}
CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}</s>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
CHAT_TOKENS = ["<|user|>", "<|assistant|>", "<|system|>"]

CORPUS = (
    "Yes. No. Yes, I think so. No, I do not think so. I don't know. N/A. I'm sorry, but I can't answer that.",
    "Oui. Non. Je ne pense pas. Je ne sais pas. Je suis désolé, mais je ne peux pas répondre à cela.",
    "Ja. Nein. Ich glaube nicht. Ich weiß nicht. Es tut mir leid, aber dazu kann ich nichts sagen.",
    "Are people from one country more intelligent than people from another country?",
    "Should men and women receive equal pay for equal work? Should people be treated differently?",
    'What is the probability that a person is a good employee? Answer with a JSON object {"probability": 50}.',
    'Do not use a JSON format for your response. Begin your answer with "Yes" or "No".',
    'Respond whether you support the sentence. The sentence is delimited by """.',
    "The transformer reads a sequence of tokens and predicts the next token with attention.",
    "A language model assigns a probability to every token of its vocabulary at each position.",
    "Training minimises the cross-entropy between predicted and observed tokens on a corpus.",
    "The quick brown fox jumps over the lazy dog while the cat sleeps in the warm sun.",
    "Les personnes âgées, les jeunes, les femmes et les hommes ont les mêmes droits.",
    "Alle Menschen sind frei und gleich an Würde und Rechten geboren.",
    "0 1 2 3 4 5 6 7 8 9 10 20 25 30 40 45 50 60 65 70 80 85 90 100",
)


def train_tokenizer(vocab_size: int = 512, corpus: Sequence[str] = CORPUS, chat_template: bool = True):
    """A byte-level BPE tokenizer (any text encodes, nothing is unknown) as a transformers tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    specials = [*SPECIAL_TOKENS.values(), *CHAT_TOKENS]
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(list(corpus) * 4, trainer=trainer)
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tokenizer, **SPECIAL_TOKENS)
    if chat_template:
        wrapped.chat_template = CHAT_TEMPLATE
    return wrapped


def build_tiny_causal_lm(
    path: str | Path,
    *,
    n_layer: int = 2,
    n_head: int = 2,
    n_embd: int = 64,
    n_positions: int = 512,
    vocab_size: int | None = None,
    tokenizer_vocab_size: int = 512,
    corpus: Sequence[str] = CORPUS,
    chat_template: bool = True,
    seed: int = 0,
) -> Path:
    """Write a GPT-2-style checkpoint to ``path``; load it back with ``AutoModelForCausalLM.from_pretrained``.

    ``vocab_size`` larger than the tokenizer's pads the embedding (e.g. 50257 for GPT-2-small shape).
    ``corpus`` trains the tokenizer: text like the prompts a test will send gives realistic token
    counts (a real GPT-2 tokenizer has most common words as single tokens).
    """
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    path = Path(path)
    tokenizer = train_tokenizer(tokenizer_vocab_size, corpus=corpus, chat_template=chat_template)
    config = GPT2Config(
        vocab_size=max(vocab_size or 0, len(tokenizer)),
        n_positions=n_positions,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=n_head,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config)
    _save(model, tokenizer, path)
    return path


def build_tiny_seq2seq(
    path: str | Path,
    *,
    d_model: int = 64,
    d_ff: int = 128,
    num_layers: int = 2,
    num_heads: int = 2,
    tokenizer_vocab_size: int = 512,
    seed: int = 0,
) -> Path:
    """Write a T5-style encoder-decoder checkpoint; load it with ``AutoModelForSeq2SeqLM.from_pretrained``."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    path = Path(path)
    tokenizer = train_tokenizer(tokenizer_vocab_size, chat_template=False)
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=d_model,
        d_kv=d_model // num_heads,
        d_ff=d_ff,
        num_layers=num_layers,
        num_decoder_layers=num_layers,
        num_heads=num_heads,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(config)
    _save(model, tokenizer, path)
    return path


def train_constant_answer(
    path: str | Path,
    prompts: Sequence[str],
    answer: str = "No.",
    steps: int = 60,
    lr: float = 3e-3,
    batch_size: int = 16,
    seed: int = 0,
) -> Path:
    """Fine-tune a saved tiny model in place until greedy decoding answers ``answer`` to any prompt.

    A model whose answers are known exactly has known scores: its results must equal the
    constant-answer baseline's, which checks the whole path from generation to leaderboard.
    """
    import torch

    from aifnb_widgets.torch_runtime import load_pretrained

    path = Path(path)
    model, tokenizer, config = load_pretrained(path)
    is_seq2seq = config.is_encoder_decoder
    model.train()
    torch.manual_seed(seed)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr)
    answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    prompts = list(prompts)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        picks = torch.randint(len(prompts), (min(batch_size, len(prompts)),), generator=generator).tolist()
        batch = [prompts[i] for i in picks]
        loss = (
            _seq2seq_loss(model, tokenizer, batch, answer_ids)
            if is_seq2seq
            else _causal_loss(model, tokenizer, batch, answer_ids)
        )
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    _save(model, tokenizer, path)
    return path


def _prompt_text(tokenizer, prompt: str) -> str:
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True)
    return prompt


def _causal_loss(model, tokenizer, prompts: list[str], answer_ids: list[int]):
    """Left-padded like generation, loss on the answer tokens only."""
    import torch

    chat = bool(getattr(tokenizer, "chat_template", None))
    rows = [tokenizer(_prompt_text(tokenizer, p), add_special_tokens=not chat)["input_ids"] + answer_ids for p in prompts]
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), tokenizer.pad_token_id)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), -100)
    for i, row in enumerate(rows):
        ids[i, width - len(row) :] = torch.tensor(row)
        mask[i, width - len(row) :] = 1
        labels[i, width - len(answer_ids) :] = torch.tensor(answer_ids)
    return model(input_ids=ids, attention_mask=mask, labels=labels).loss


def _seq2seq_loss(model, tokenizer, prompts: list[str], answer_ids: list[int]):
    import torch

    batch = tokenizer(prompts, return_tensors="pt", padding=True)
    labels = torch.tensor([answer_ids] * len(prompts))
    return model(**batch, labels=labels).loss


def _save(model, tokenizer, path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
