"""`torchrun`, usable where the installed one is broken:

    python3 -m orderembed_torch.launch --nproc_per_node 2 -m orderembed_torch.train --data <pack> --out <run>

PyTorch 1.13's launcher (Debian bookworm's python3-torch) fails on Python >= 3.11 before starting any
worker (`AttributeError: 'NoneType' object has no attribute 'get'` in elastic/multiprocessing/api.py):
its `Std.from_str("0")` looks the value up by iterating the IntFlag `Std`, and since Python 3.11 that
iteration skips the zero member NONE. This module repairs `Std.from_str` when (and only when) it is
broken, then runs torch.distributed.run's own main, so the arguments are exactly torchrun's. With a
working torchrun (PyTorch >= 2.0) the two are the same.
"""

from __future__ import annotations

import re

from torch.distributed.elastic.multiprocessing import api


def _repair() -> None:
    Std = api.Std
    if Std.from_str("0") is Std.NONE:
        return

    def from_str(vm: str):
        if re.match(api._VALUE_REGEX, vm):
            return Std(int(vm))
        if re.match(api._MAPPING_REGEX, vm):
            return {int(i): Std(int(v)) for i, v in (m.split(":") for m in vm.split(","))}
        raise ValueError(f"{vm} does not match: <{api._VALUE_REGEX}> or <{api._MAPPING_REGEX}>")

    Std.from_str = staticmethod(from_str)  # type: ignore[method-assign]


if __name__ == "__main__":
    _repair()
    from torch.distributed.run import main

    main()
