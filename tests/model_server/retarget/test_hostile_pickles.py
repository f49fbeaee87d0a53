"""A FLAME path is a user's file: a pickle that would run code is refused, and nothing of it runs."""

from __future__ import annotations

import builtins
import os
import pickle
import subprocess

import pytest

from model_server.errors import InputError
from model_server.retarget.flame_model import load_flame_model

from .flame_fixtures import write_chumpy_pickle


def hostile(call, args) -> object:
    class Payload:
        def __reduce__(self):
            return call, args
    return Payload()


def payloads(marker):
    command = f"touch {marker}"
    return {
        "os.system": hostile(os.system, (command,)),
        "eval": hostile(builtins.eval, (f"__import__('os').system({command!r})",)),
        "exec": hostile(builtins.exec, (f"import os; os.system({command!r})",)),
        "subprocess.Popen": hostile(subprocess.Popen, (["touch", str(marker)],)),
        "__import__": hostile(builtins.__import__, ("os",)),
        "inside a FLAME dictionary": {"v_template": [[0.0, 0.0, 0.0]], "f": hostile(os.system, (command,))},
    }


@pytest.mark.parametrize("protocol", range(0, pickle.HIGHEST_PROTOCOL + 1))
def test_hostile_pickles_are_refused_and_nothing_runs(tmp_path, protocol):
    marker = tmp_path / "ran"
    for name, payload in payloads(marker).items():
        path = tmp_path / f"{name}.pkl"
        path.write_bytes(pickle.dumps(payload, protocol=protocol))
        with pytest.raises(InputError, match="not a FLAME model file and was refused.*nothing in it was run"):
            load_flame_model(path)
        assert not marker.exists(), f"{name} (protocol {protocol}) ran"


def test_a_real_flame_format_pickle_still_loads(tmp_path):
    model = load_flame_model(write_chumpy_pickle(tmp_path / "generic_model.pkl"))
    assert model.expression_basis.shape[0] == 50
