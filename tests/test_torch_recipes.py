"""The recipes of docs/guides/torch.md, run: Lightning automatic optimization (Lightning's own
closure), Lightning manual optimization (self.manual_backward) and a Hugging Face Trainer
subclass, each a few steps on a tiny CPU model (nothing downloaded), compared with a hand loop of
`opt.step(lambda: loss)`. A missing package skips with its name; under CI=true it fails."""
import copy
import importlib
import os
import warnings

import pytest

torch = pytest.importorskip("torch")

import gamtoy.torch as gtt  # noqa: E402

F = torch.nn.functional
STEPS = 3
HYPER = {"sam": dict(rho=0.13), "gsam": dict(rho=0.13, alpha=0.3), "gnp": dict(rho=0.13, alpha=0.3),
         "gam_accel": dict(rho=0.07, rho_prime=0.11, alpha=0.3),
         "gsam+gam": dict(rho=0.09, alpha=0.3, alpha_gsam=0.4)}


def _need(module):
    """The module, or a skip naming it (a failure under CI=true, where it must be installed)."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        msg = f"{module} is not installed (pip install -e '.[test]'): {e}"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)


def _problem(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(5, 12), torch.nn.Tanh(),
                                torch.nn.Linear(12, 3)).double()
    return model, torch.randn(16, 5, dtype=torch.float64), torch.randint(0, 3, (16,))


def _opt(name, params):
    return gtt.get(name, params, lr=0.1, base="momentum", weight_decay=1e-3, **HYPER[name])


def _by_hand(name, model, X, y):
    """The reference: STEPS steps of opt.step(lambda: loss) on the whole batch."""
    opt = _opt(name, model.parameters())
    for _ in range(STEPS):
        opt.step(lambda: F.cross_entropy(model(X), y))
    return _vec(model)


def _vec(model):
    return torch.nn.utils.parameters_to_vector(model.parameters()).detach().clone()


# ---- Lightning --------------------------------------------------------------------------------

def _lightning_fit(module, X, y, L):
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=len(X))
    trainer = L.Trainer(max_epochs=STEPS, accelerator="cpu", devices=1, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lightning's advice on workers and logging
        trainer.fit(module, data)


@pytest.mark.parametrize("name", ["gsam", "gsam+gam"])
def test_lightning_automatic_optimization_equals_the_hand_loop(name):
    L = _need("lightning")

    class Auto(L.LightningModule):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def training_step(self, batch, batch_idx):
            x, t = batch
            return F.cross_entropy(self.net(x), t)

        def configure_optimizers(self):  # Lightning passes its closure to opt.step
            return _opt(name, self.parameters())

    model, X, y = _problem()
    want = _by_hand(name, copy.deepcopy(model), X, y)
    _lightning_fit(Auto(model), X, y, L)
    torch.testing.assert_close(_vec(model), want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name,two_step", [("sam", True), ("gam_accel", False)])
def test_lightning_manual_optimization_equals_the_hand_loop(name, two_step):
    L = _need("lightning")

    class Manual(L.LightningModule):
        def __init__(self, net):
            super().__init__()
            self.net = net
            self.automatic_optimization = False

        def training_step(self, batch, batch_idx):
            x, t = batch
            if two_step:  # SAM, GNP, GSAM: the gradient at w, then at w + e
                opt = self.optimizers(use_pl_optimizer=False)
                self.manual_backward(F.cross_entropy(self.net(x), t))
                opt.first_step(zero_grad=True)
                self.manual_backward(F.cross_entropy(self.net(x), t))
                opt.second_step(zero_grad=True)
                return
            opt = self.optimizers()

            def closure():  # any optimizer
                loss = F.cross_entropy(self.net(x), t)
                opt.zero_grad()
                self.manual_backward(loss)
                return loss
            opt.step(closure)

        def configure_optimizers(self):
            return _opt(name, self.parameters())

    model, X, y = _problem()
    want = _by_hand(name, copy.deepcopy(model), X, y)
    _lightning_fit(Manual(model), X, y, L)
    torch.testing.assert_close(_vec(model), want, rtol=1e-9, atol=1e-12)


# ---- Hugging Face Trainer ---------------------------------------------------------------------

def _hf_model(T):
    cfg = T.BertConfig(vocab_size=40, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=24, max_position_embeddings=12, num_labels=3,
                       hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    torch.manual_seed(0)
    return T.BertForSequenceClassification(cfg).double()


class _Rows(torch.utils.data.Dataset):
    def __init__(self, ids, labels):
        self.ids, self.labels = ids, labels

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


@pytest.mark.parametrize("name", ["gsam"])
def test_a_hugging_face_trainer_subclass_equals_the_hand_loop(name, tmp_path):
    T = _need("transformers")
    _need("accelerate")  # the Trainer's own dependency (transformers[torch])
    model = _hf_model(T)
    g = torch.Generator().manual_seed(1)
    ids, labels = torch.randint(0, 40, (8, 10), generator=g), torch.randint(0, 3, (8,), generator=g)
    ref = copy.deepcopy(model)
    opt = _opt(name, ref.parameters())
    for _ in range(STEPS):
        opt.step(lambda: ref(input_ids=ids, labels=labels).loss)

    class TwoStepTrainer(T.Trainer):
        def training_step(self, model, inputs, num_items_in_batch=None):
            loss = super().training_step(model, inputs, num_items_in_batch)  # grad L(w)
            self.optimizer.optimizer.first_step(zero_grad=True)  # unwrapped from accelerate
            super().training_step(model, inputs, num_items_in_batch)  # grad L(w + e)
            return loss  # the Trainer's optimizer.step() is the second step

    opt = _opt(name, model.parameters())
    args = T.TrainingArguments(output_dir=str(tmp_path), per_device_train_batch_size=8,
                               max_steps=STEPS, max_grad_norm=0.0, report_to="none",
                               use_cpu=True, save_strategy="no", logging_strategy="no",
                               dataloader_num_workers=0, disable_tqdm=True)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 1.0)
    trainer = TwoStepTrainer(model=model, args=args, train_dataset=_Rows(ids, labels),
                             optimizers=(opt, sched))
    trainer.train()
    torch.testing.assert_close(_vec(model), _vec(ref), rtol=1e-9, atol=1e-12)
