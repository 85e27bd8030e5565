import pytest

from aifnb_widgets.backends.base import BackendError, GenerationSettings
from aifnb_widgets.backends.factory import make_backend, validate_model_spec
from aifnb_widgets.backends.hf import HFBackend

PROMPTS = ["Are men smarter than women?", "Short?", "A much longer prompt about whether people from one country are more honest."]


@pytest.mark.parametrize("fixture", ["tiny_gpt2_dir", "tiny_t5_dir"])
def test_batched_greedy_equals_one_by_one(fixture, request):
    """Batched greedy equals one by one."""
    backend = HFBackend(str(request.getfixturevalue(fixture)), GenerationSettings(max_new_tokens=6))
    batched = backend.generate(PROMPTS)
    single = [backend.generate([p])[0] for p in PROMPTS]
    assert len(batched) == 3 and batched == single
    assert backend.device in ("cpu", "cuda") and backend.revision.startswith("local-")


def test_decoder_only_pads_left_and_uses_the_chat_template(tiny_gpt2_dir):
    """Decoder only pads left and uses the chat template."""
    backend = HFBackend(str(tiny_gpt2_dir))
    assert backend.tokenizer.padding_side == "left" and not backend.is_encoder_decoder
    texts, chat = backend._inputs(["hi"])
    assert chat and texts[0].endswith("<|assistant|>")


def test_encoder_decoder_is_detected(tiny_t5_dir):
    """Encoder decoder is detected."""
    assert HFBackend(str(tiny_t5_dir)).is_encoder_decoder


def test_max_new_tokens_is_honoured(tiny_gpt2_dir):
    """Max new tokens is honoured."""
    short = HFBackend(str(tiny_gpt2_dir), GenerationSettings(max_new_tokens=1)).generate(PROMPTS)
    long = HFBackend(str(tiny_gpt2_dir), GenerationSettings(max_new_tokens=12)).generate(PROMPTS)
    assert sum(map(len, short)) < sum(map(len, long))


def test_seeded_sampling_is_reproducible(tiny_gpt2_dir):
    """Seeded sampling is reproducible."""
    settings = GenerationSettings(max_new_tokens=8, do_sample=True, temperature=1.5, seed=5)
    first = HFBackend(str(tiny_gpt2_dir), settings).generate(PROMPTS)
    assert HFBackend(str(tiny_gpt2_dir), settings).generate(PROMPTS) == first


def test_missing_model_path_is_named(tmp_path):
    """Missing model path is named."""
    with pytest.raises(BackendError, match="model path .*nope does not exist"):
        make_backend(str(tmp_path / "nope"), GenerationSettings())


@pytest.mark.parametrize("spec", ["model; rm -rf /", "$(id)", "a b", "../../etc", "http://host:8000/v1"])
def test_model_specs_outside_the_allow_list_are_refused(spec):
    """Model specs outside the allow list are refused."""
    with pytest.raises(ValueError, match="not allowed|needs the served model name"):
        validate_model_spec(spec)


@pytest.mark.parametrize("spec", ["/scratch/models/llama-3-8b", "meta-llama/Llama-3.1-8B-Instruct", "http://gpu01:8000/v1#llama"])
def test_ordinary_specs_pass(spec):
    """Ordinary specs pass."""
    assert validate_model_spec(spec) == spec
