"""Checkpoints: official prefixes and config sources, clear mismatch errors, bundled format with sha256,
convert -> load_bundled -> build_model parity, table slimming, and `verify` against the reference traces."""

import json
import shutil
from pathlib import Path

import pytest
import torch

from trm_submit.official import checkpoints as official
from trm_submit.official.convert import convert
from trm_submit.official.parity import format_verify_table, verify
from trm_submit.trm import checkpoint as ck
from trm_submit.trm.model import PUZZLE_TABLE_KEY, TRM

REF = Path(__file__).parent / "fixtures" / "reference"
FP32 = REF / "small-fp32"


def official_state() -> dict:
    return torch.load(FP32 / "checkpoint" / "step_0", weights_only=True, map_location="cpu")


def write_checkpoint(folder: Path, state: dict, config: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(state, folder / "step_0")
    if config:
        shutil.copy(FP32 / "checkpoint" / "config.json", folder / "config.json")
    return folder / "step_0"


def trace_outputs(model: TRM, ids: torch.Tensor) -> list[dict]:
    ref = torch.load(FP32 / "reference.pt", weights_only=True)
    batch = {"inputs": ref["inputs"], "puzzle_identifiers": ids}
    outs = []
    with torch.inference_mode():
        carry = model.eval().initial_carry(batch)
        for _ in range(ref["logits"].shape[0]):
            carry, out = model(carry, batch)
            outs.append(out)
    return outs


@pytest.mark.parametrize("prefix", ["_orig_mod.model.", "model.", ""])
def test_every_official_prefix_variant_loads(tmp_path, prefix):
    state = {prefix + k.removeprefix("_orig_mod.model."): v for k, v in official_state().items()}
    config, loaded = official.load_official(write_checkpoint(tmp_path, state))
    assert config.hidden_size == 64 and config.num_heads == 2 and config.halt_max_steps == 4
    assert config.forward_dtype == "float32"
    assert set(loaded) == set(TRM(config, 8).state_dict())


def test_a_wrong_shape_names_the_key_and_both_shapes(tmp_path):
    state = official_state()
    key = "_orig_mod.model.inner.L_level.layers.1.mlp.down_proj.weight"
    state[key] = torch.zeros(64, 128)
    with pytest.raises(ck.CheckpointError) as err:
        official.load_official(write_checkpoint(tmp_path, state))
    assert "inner.L_level.layers.1.mlp.down_proj.weight: checkpoint [64, 128] vs model [64, 256]" in str(err.value)


def test_missing_and_unexpected_keys_are_listed(tmp_path):
    state = official_state()
    del state["_orig_mod.model.inner.q_head.bias"]
    state["_orig_mod.model.inner.extra.weight"] = torch.zeros(1)
    with pytest.raises(ck.CheckpointError, match=r"missing keys: \['inner.q_head.bias'\].*unexpected keys: "
                                                 r"\['inner.extra.weight'\]"):
        official.load_official(write_checkpoint(tmp_path, state))


def test_config_from_all_config_yaml_with_overrides(tmp_path):
    path = write_checkpoint(tmp_path, official_state(), config=False)
    (tmp_path / "all_config.yaml").write_text(
        "arch:\n  H_cycles: 3\n  L_cycles: 4\n  L_layers: 2\n  expansion: 4\n  forward_dtype: float32\n"
        "  halt_max_steps: 4\n  hidden_size: 64\n  loss:\n    loss_type: stablemax_cross_entropy\n"
        "    name: losses@ACTLossHead\n  mlp_t: false\n"
        "  name: recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1\n"
        "  num_heads: 2  # two heads\n  pos_encodings: rope\n  puzzle_emb_ndim: 64\n  rms_norm_eps: 1.0e-05\n"
        "beta1: 0.9\ndata_paths:\n- data/arc1concept-aug-1000\nema: true\n"
    )
    config, _ = official.load_official(path, {"halt_max_steps": "16", "rope_theta": "5000.0"})
    assert (config.num_heads, config.L_cycles, config.rms_norm_eps, config.mlp_t) == (2, 4, 1e-5, False)
    assert (config.halt_max_steps, config.rope_theta) == (16, 5000.0)


def test_without_a_config_file_shapes_and_overrides_decide(tmp_path):
    path = write_checkpoint(tmp_path, official_state(), config=False)
    config, _ = official.load_official(tmp_path, {"num_heads": 2, "halt_max_steps": 4})  # folder -> step_0
    assert (config.hidden_size, config.L_layers, config.puzzle_emb_ndim) == (64, 2, 64)
    assert config.forward_dtype == "float32" and config.H_cycles == 3
    assert official.resolve_checkpoint_file(tmp_path) == path


def test_override_parsing_and_unknown_override_keys():
    assert official.parse_overrides(["H_cycles=2", "mlp_t=false", "rms_norm_eps=1e-6", "forward_dtype=float32"]) == {
        "H_cycles": 2, "mlp_t": False, "rms_norm_eps": 1e-6, "forward_dtype": "float32"}
    with pytest.raises(ck.CheckpointError, match="key=value"):
        official.parse_overrides(["H_cycles"])
    with pytest.raises(ck.CheckpointError, match="H_cycle'"):
        official.load_official(FP32 / "checkpoint" / "step_0", {"H_cycle": 2})


def test_slim_table_is_the_mean_of_rows_after_the_blank_row():
    table = torch.tensor([[100.0, 100.0], [1.0, 2.0], [3.0, 6.0]])
    assert torch.equal(ck.slim_puzzle_table(table), torch.tensor([2.0, 4.0]))
    with pytest.raises(ck.CheckpointError):
        ck.slim_puzzle_table(torch.zeros(1, 4))


def test_convert_then_build_model_reproduces_the_official_checkpoint(tmp_path):
    out = convert(FP32 / "checkpoint" / "step_0", tmp_path / "weights" / "trm.pt").path
    bundle = ck.load_bundled(out)
    table = official_state()["_orig_mod.model.inner.puzzle_emb.weights"]
    torch.testing.assert_close(bundle.initial_puzzle_emb, table[1:].double().mean(0).float(), atol=0, rtol=0)
    assert bundle.provenance["source_checkpoint"] == "checkpoint/step_0" and len(bundle.sha256) == 64
    assert PUZZLE_TABLE_KEY not in bundle.trunk_state
    ref = torch.load(FP32 / "reference.pt", weights_only=True)
    ids = ref["puzzle_identifiers"].long()  # official rows of the trace
    model = ck.build_model(bundle, num_views=len(ids), device="cpu")
    assert torch.equal(model.inner.puzzle_emb.weights[0], bundle.initial_puzzle_emb)
    with torch.no_grad():  # view v takes the official row the trace used for it
        model.inner.puzzle_emb.weights.copy_(table[ids])
    views = torch.tensor([ck.view_puzzle_id(v) for v in range(len(ids))])
    for ours, theirs in zip(trace_outputs(model, views), [dict(logits=lg, q=q) for lg, q in
                                                           zip(ref["logits"], ref["q_halt_logits"])]):
        torch.testing.assert_close(ours["logits"], theirs["logits"], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(ours["q_halt_logits"], theirs["q"], atol=1e-5, rtol=1e-5)


def test_bundled_checksum_is_enforced(tmp_path):
    out = convert(FP32 / "checkpoint" / "step_0", tmp_path / "trm.pt").path
    sidecar = Path(str(out) + ck.CHECKSUM_SUFFIX)
    assert sidecar.read_text().split() == [ck.sha256_file(out), "trm.pt"]
    with open(out, "ab") as fh:
        fh.write(b"tamper")
    with pytest.raises(ck.CheckpointError, match="sha256 mismatch"):
        ck.load_bundled(out)
    ck.load_bundled(out, check_sha=False)  # still a valid zip with trailing bytes; check skipped
    sidecar.unlink()
    with pytest.raises(ck.CheckpointError, match="no checksum"):
        ck.load_bundled(out)
    (tmp_path / "SHA256SUMS").write_text(f"{ck.sha256_file(out)}  trm.pt\n")
    assert ck.load_bundled(out).sha256 == ck.sha256_file(out)


def test_bundle_and_official_files_are_not_confused(tmp_path):
    out = convert(FP32 / "checkpoint" / "step_0", tmp_path / "trm.pt").path
    with pytest.raises(ck.CheckpointError, match="load_bundled"):
        official.load_official(out)
    with pytest.raises(ck.CheckpointError, match="not a trm-submit-weights"):
        ck.load_bundled(FP32 / "checkpoint" / "step_0", check_sha=False)


def test_save_bundled_rejects_a_trunk_that_does_not_fit_the_config(tmp_path):
    config, state = official.load_official(FP32 / "checkpoint" / "step_0")
    with pytest.raises(ck.CheckpointError, match="hidden_size|shape mismatch"):
        ck.save_bundled(tmp_path / "x.pt", config.replace(hidden_size=32, puzzle_emb_ndim=32), state,
                        torch.zeros(32), {})


def test_a_malformed_all_config_yaml_is_one_checkpoint_error_line(tmp_path):
    path = write_checkpoint(tmp_path, official_state(), config=False)
    (tmp_path / "all_config.yaml").write_text("arch:\n  hidden_size: 64\n   num_heads: [2\n")
    with pytest.raises(ck.CheckpointError, match=r"all_config.yaml is not valid YAML \(line \d+") as info:
        official.load_official(path)
    assert "\n" not in str(info.value)


def test_an_all_config_yaml_without_an_arch_mapping_is_refused(tmp_path):
    path = write_checkpoint(tmp_path, official_state(), config=False)
    (tmp_path / "all_config.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ck.CheckpointError, match="all_config.yaml has no arch mapping"):
        official.load_official(path)


# --- verify ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["small-fp32", "small-bf16"])
def test_verify_passes_on_the_reference_traces(name):
    result = verify(REF / name / "checkpoint" / "step_0", REF / name)
    assert result.passed, format_verify_table(result)
    assert len(result.steps) == 4 and result.dtype == ("float32" if name == "small-fp32" else "bfloat16")
    assert "PASS" in format_verify_table(result)


def test_verify_fails_on_a_perturbed_trace(tmp_path):
    ref = torch.load(FP32 / "reference.pt", weights_only=True)
    ref["logits"][2, 0, 5, 3] += 1e-3
    torch.save(ref, tmp_path / "reference.pt")
    result = verify(FP32 / "checkpoint" / "step_0", tmp_path)
    assert not result.passed
    assert [s.max_abs_logits > 1e-4 for s in result.steps] == [False, False, True, False]
    assert "FAIL" in format_verify_table(result)


def test_verify_bf16_rule_judges_argmax_and_q_halt(tmp_path):
    ref = torch.load(REF / "small-bf16" / "reference.pt", weights_only=True)
    ref["q_halt_logits"][1, 0] += 0.1
    torch.save(ref, tmp_path / "reference.pt")
    result = verify(REF / "small-bf16" / "checkpoint" / "step_0", tmp_path)
    assert not result.passed and result.steps[1].max_abs_q_halt == pytest.approx(0.1, abs=0.01)


def test_verify_bf16_rule_fails_a_decisive_argmax_difference(tmp_path):
    """Raising one cell's runner-up logit by 1.0 in the trace makes it the trace's clear argmax: our argmax there
    is now 1.0 below the top, far beyond a bf16 tie, and that step fails (the others still pass)."""
    ref = torch.load(REF / "small-bf16" / "reference.pt", weights_only=True)
    cell = ref["logits"][2, 1, 40].float()
    runner_up = int(cell.argsort()[-2])
    ref["logits"][2, 1, 40, runner_up] = cell.max() + 1.0
    torch.save(ref, tmp_path / "reference.pt")
    result = verify(REF / "small-bf16" / "checkpoint" / "step_0", tmp_path)
    assert not result.passed
    assert result.steps[2].max_argmax_gap >= 0.9
    assert [s.max_argmax_gap <= 0.1 for i, s in enumerate(result.steps) if i != 2] == [True] * 3


def test_verify_reads_the_config_from_the_checkpoint_folder(tmp_path):
    folder = tmp_path / "ckpt"
    write_checkpoint(folder, official_state())
    arch = json.loads((folder / "config.json").read_text())
    arch["arch"]["H_cycles"] = 2  # a different recursion depth gives different outputs
    (folder / "config.json").write_text(json.dumps(arch))
    assert not verify(folder / "step_0", FP32).passed
    assert verify(folder / "step_0", FP32, arch_overrides={"H_cycles": "3"}).passed
