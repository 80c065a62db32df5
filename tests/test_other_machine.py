"""``tools.other_machine``: CI's "another machine" never overrides a kernel the owner chose."""

from __future__ import annotations

from tools import other_machine


def test_a_preset_openblas_kernel_is_kept(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Prescott")
    lines = other_machine.environment_lines()
    assert not any("OPENBLAS_CORETYPE" in line for line in lines)
    assert lines[0].startswith(f"export PYTHONPATH={other_machine.ANNOY_TARGET}")


def test_another_kernel_is_chosen_when_none_is_preset(monkeypatch):
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    monkeypatch.setattr(other_machine, "current_kernel", lambda: "SkylakeX")
    assert "export OPENBLAS_CORETYPE=Haswell" in other_machine.environment_lines()


def test_an_unknown_kernel_leaves_blas_alone(monkeypatch):
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    monkeypatch.setattr(other_machine, "current_kernel", lambda: "SomeFutureCPU")
    assert not any("OPENBLAS_CORETYPE" in line for line in other_machine.environment_lines())


def test_every_replacement_kernel_differs_from_the_one_it_replaces():
    assert all(native != other for native, other in other_machine.OTHER_KERNEL.items())


def test_portable_annoy_flags_drop_native_and_fast_math():
    flags = other_machine.PORTABLE_ANNOY_FLAGS.split(",")
    assert not any(flag.startswith("-march") or flag == "-ffast-math" for flag in flags)
    assert "-ffp-contract=off" in flags
