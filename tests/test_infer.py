"""Batched inference: equals a manual loop over the ACT wrapper, streaming batches, early stopping, inputs."""

import json
from pathlib import Path

import conftest
import numpy as np
import pytest
import torch

from trm_submit.config import ModelConfig
from trm_submit.trm.infer import activation_bytes_per_sample, choose_batch_size, predict
from trm_submit.trm.model import TRM

REF = Path(__file__).parent / "fixtures" / "reference" / "small-fp32"
SMALL = conftest.tiny_config(L_layers=2, H_cycles=2, L_cycles=2, puzzle_emb_len=16, halt_max_steps=5, seq_len=64,
                             pos_encodings="rope", mask_pad=False)


def reference_model() -> TRM:
    arch = json.loads((REF / "checkpoint" / "config.json").read_text())["arch"]
    state = torch.load(REF / "checkpoint" / "step_0", weights_only=True, map_location="cpu")
    model = TRM(ModelConfig.from_dict(arch), 8)
    model.load_state_dict({k.removeprefix("_orig_mod.model."): v for k, v in state.items()})
    return model.eval()


def random_model(config: ModelConfig = SMALL, num_ids: int = 6) -> TRM:
    return conftest.random_model(config, num_ids, q_std=0.3)


def random_rows(n: int, seq_len: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 12, size=(n, seq_len)).astype(np.uint8), rng.integers(0, 6, size=n).astype(np.int32)


def manual_loop(model: TRM, tokens: np.ndarray, ids: np.ndarray, steps: int):
    """Per-step argmax and q_halt of the plain ACT-wrapper loop (the oracle for `predict`)."""
    batch = {"inputs": torch.from_numpy(tokens).long(), "puzzle_identifiers": torch.from_numpy(ids).long()}
    preds, q_halt = [], []
    with torch.inference_mode():
        carry = model.initial_carry(batch)
        for _ in range(steps):
            carry, out = model(carry, batch)
            preds.append(out["logits"].argmax(-1).numpy().astype(np.uint8))
            q_halt.append(out["q_halt_logits"].double().numpy())
    return preds, q_halt


def test_predict_equals_the_manual_loop_on_the_reference_checkpoint():
    model = reference_model()
    ref = torch.load(REF / "reference.pt", weights_only=True)
    tokens, ids = ref["inputs"].numpy().astype(np.uint8), ref["puzzle_identifiers"].numpy()
    pred = predict(model, tokens, ids)
    assert np.array_equal(pred.tokens, ref["preds"][-1].numpy())
    np.testing.assert_allclose(pred.q_halt_prob, torch.sigmoid(ref["q_halt_logits"][-1]).numpy(), rtol=1e-5)
    assert pred.steps_run.tolist() == [4, 4] and pred.tokens.dtype == np.uint8
    assert pred.q_halt_prob.dtype == np.float32


@pytest.mark.parametrize("batch_size", [3, 7, 64])
def test_streamed_batches_equal_one_manual_batch(batch_size):
    model = random_model()
    tokens, ids = random_rows(10)
    preds, q_halt = manual_loop(model, tokens, ids, steps=5)
    pred = predict(model, tokens, ids, batch_size=batch_size)
    assert (pred.tokens == preds[-1]).mean() > 0.999  # argmax ties may flip under other batch shapes
    np.testing.assert_allclose(pred.q_halt_prob, 1 / (1 + np.exp(-q_halt[-1])), rtol=1e-4, atol=1e-6)
    assert pred.steps_run.tolist() == [5] * 10


def test_steps_argument_stops_after_that_many_steps():
    model = random_model()
    tokens, ids = random_rows(4)
    preds, q_halt = manual_loop(model, tokens, ids, steps=2)
    pred = predict(model, tokens, ids, steps=2, batch_size=4)
    assert np.array_equal(pred.tokens, preds[-1]) and pred.steps_run.tolist() == [2] * 4


def test_early_stop_with_large_k_equals_no_early_stop():
    model = random_model()
    tokens, ids = random_rows(6)
    plain = predict(model, tokens, ids, batch_size=4)
    large_k = predict(model, tokens, ids, batch_size=4, early_stop_k=100)
    assert np.array_equal(plain.tokens, large_k.tokens)
    assert np.array_equal(plain.q_halt_prob, large_k.q_halt_prob)
    assert np.array_equal(plain.steps_run, large_k.steps_run)


def test_early_stop_stops_each_row_when_its_argmax_repeats_k_times():
    model = random_model(SMALL.replace(halt_max_steps=8))
    tokens, ids = random_rows(12, seed=3)
    preds, q_halt = manual_loop(model, tokens, ids, steps=8)
    k = 1
    pred = predict(model, tokens, ids, batch_size=5, early_stop_k=k)
    for row in range(len(tokens)):
        stop = next((t for t in range(1, 8) if np.array_equal(preds[t][row], preds[t - 1][row])), 7)
        assert pred.steps_run[row] == stop + 1
        assert np.array_equal(pred.tokens[row], preds[stop][row])
        assert pred.q_halt_prob[row] == pytest.approx(1 / (1 + np.exp(-q_halt[stop][row])), rel=1e-4)
    assert pred.steps_run.min() < 8  # the oracle says some rows settle early on this model


def test_predict_restores_training_mode_and_handles_no_rows():
    model = random_model().train()
    empty = predict(model, np.zeros((0, 64), np.uint8), np.zeros(0, np.int32))
    assert empty.tokens.shape == (0, 64) and model.training


@pytest.mark.parametrize("tokens, ids, message", [
    (np.zeros((2, 64), np.uint8), np.zeros(3, np.int32), "puzzle_ids"),
    (np.full((2, 64), 12, np.uint8), np.zeros(2, np.int32), "token ids"),
    (np.zeros((2, 64), np.uint8), np.array([0, 6]), "puzzle ids"),
    (np.zeros(64, np.uint8), np.zeros(1, np.int32), r"\[N, L\]"),
])
def test_bad_inputs_get_a_clear_error(tokens, ids, message):
    with pytest.raises(ValueError, match=message):
        predict(random_model(), tokens, ids)


def test_a_model_on_another_device_is_refused():
    with pytest.raises(ValueError, match="move it first"):
        predict(random_model(), np.zeros((1, 64), np.uint8), np.zeros(1, np.int32), device="meta")


def test_bf16_predictions_agree_with_fp32_on_most_cells():
    model = random_model()
    tokens, ids = random_rows(4)
    fp32 = predict(model, tokens, ids, dtype="float32")
    bf16 = predict(model, tokens, ids, dtype="bfloat16")
    assert (fp32.tokens == bf16.tokens).mean() > 0.9
    np.testing.assert_allclose(fp32.q_halt_prob, bf16.q_halt_prob, atol=0.05)


def test_batch_size_from_memory_budget_scales_with_the_budget():
    config = ModelConfig()  # paper ARC config
    per_sample = activation_bytes_per_sample(config, 900, torch.bfloat16)
    assert 5e6 < per_sample < 1e8
    assert activation_bytes_per_sample(config, 900, torch.float32) > per_sample
    assert choose_batch_size(config, 900, torch.bfloat16, 10 * per_sample) == 10
    assert choose_batch_size(config, 900, torch.bfloat16, 1) == 1
