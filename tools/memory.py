"""Peak CPU tensor memory of an optimizer step: a benchmark helper, outside the package."""
import gc
import warnings

import torch
from torch.profiler import ProfilerActivity, profile


def peak_tensor_bytes(step, params, warmup=2):
    """Peak bytes of CPU tensor memory while `step()` runs (a benchmark helper, not for the hot
    path): {"start": bytes live before the step, "peak": the highest live bytes during it}.

    How it is measured: after `warmup` steps, every p.grad of `params` is released (each step
    makes its own) and the storages of every tensor reachable from Python are summed, each once
    (parameters, data, optimizer state, work buffers: found with gc). Two steps then run under
    torch.profiler(profile_memory=True), which records every allocation and free of the CPU
    allocator; live bytes at any moment = that start + the running sum of the records. The peak
    is the highest value over both steps (the second sees the first's leftovers).
    """
    for _ in range(warmup):
        step()
    for p in params:
        p.grad = None
    gc.collect()
    seen, start = set(), 0
    with warnings.catch_warnings():  # isinstance on deprecated torch objects warns
        warnings.simplefilter("ignore")
        for obj in gc.get_objects():
            try:
                if not isinstance(obj, torch.Tensor) or obj.device.type != "cpu":
                    continue
                st = obj.untyped_storage()
                ptr = st.data_ptr()  # fake tensors (left by torch.compile) have none: skipped
            except Exception:  # noqa: BLE001 - objects that only look like tensors
                continue
            if ptr and ptr not in seen:
                seen.add(ptr)
                start += st.nbytes()
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
        step()
    events = sorted((e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"),
                    key=lambda e: e.start_ns())
    live = peak = start
    for e in events:
        live += e.nbytes()
        peak = max(peak, live)
    return {"start": start, "peak": peak}
