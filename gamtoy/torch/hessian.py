"""Flatness of a trained torch model from Hessian-vector products (double backward).

`flatness(model, loss_fn, batches)` -> top Hessian eigenvalues (Lanczos with full
reorthogonalisation, a fixed number of HVPs so the cost is bounded; the largest *algebraic*
Ritz values, right on indefinite Hessians) and the Hessian trace (Hutchinson, Rademacher probes),
for the loss averaged over `batches` with the model in eval mode (BatchNorm running statistics).
"""
import numpy as np
import torch


def hvp_operator(model, loss_fn, batches):
    """v -> H v for the mean loss over `batches` (list of (x, y)), on flat parameter vectors."""
    params = [p for p in model.parameters() if p.requires_grad]

    def hvp(v):
        out = torch.zeros_like(v)
        vs = [x.view_as(p) for x, p in zip(torch.split(v, [p.numel() for p in params]), params,
                                           strict=True)]
        for x, y in batches:
            with torch.enable_grad():
                gs = torch.autograd.grad(loss_fn(model(x), y), params, create_graph=True)
                dot = sum((g * u).sum() for g, u in zip(gs, vs, strict=True))
                hs = torch.autograd.grad(dot, params, allow_unused=True, materialize_grads=True)
            out += torch.cat([h.reshape(-1) for h in hs]).detach()
        return out / len(batches)

    n = sum(p.numel() for p in params)
    ref = params[0]
    return hvp, n, ref.dtype, ref.device


def lanczos(matvec, n, k, steps, rng):
    """Top-k Ritz values of a symmetric operator after `steps` Lanczos steps (steps >= n: exact)."""
    steps = min(steps, n)
    Q = np.zeros((steps, n))
    alpha, beta = np.zeros(steps), np.zeros(steps)
    q = rng.normal(size=n)
    q /= np.linalg.norm(q)
    m = steps
    for j in range(steps):
        Q[j] = q
        w = matvec(q)
        alpha[j] = w @ q
        w -= Q[:j + 1].T @ (Q[:j + 1] @ w)  # full reorthogonalisation (twice is enough)
        w -= Q[:j + 1].T @ (Q[:j + 1] @ w)
        beta[j] = np.linalg.norm(w)
        if beta[j] < 1e-10 * max(1.0, abs(alpha[j])):
            m = j + 1
            break
        q = w / beta[j]
    T = np.diag(alpha[:m]) + np.diag(beta[:m - 1], 1) + np.diag(beta[:m - 1], -1)
    return sorted(np.linalg.eigvalsh(T)[::-1][:k].tolist(), reverse=True)


def flatness(model, loss_fn, batches, k=3, probes=20, seed=0, steps=30):
    """{"eigenvalues": top-k (descending), "trace": Hutchinson estimate, "trace_std_err": ...}."""
    was_training = model.training
    model.eval()
    try:
        hvp, n, dtype, device = hvp_operator(model, loss_fn, batches)

        def matvec(v):
            t = torch.as_tensor(np.asarray(v).reshape(-1), dtype=dtype, device=device)
            return hvp(t).double().cpu().numpy()

        rng = np.random.default_rng(seed)
        vals = lanczos(matvec, n, max(1, min(k, n)), steps, rng)
        samples = []
        for _ in range(probes):
            z = rng.choice([-1.0, 1.0], size=n)
            samples.append(float(z @ matvec(z)))
        samples = np.array(samples)
        return {"eigenvalues": vals, "lanczos_steps": min(steps, n),
                "trace": float(samples.mean()),
                "trace_std_err": (float(samples.std(ddof=1) / np.sqrt(probes)) if probes > 1
                                  else None)}
    finally:
        model.train(was_training)
