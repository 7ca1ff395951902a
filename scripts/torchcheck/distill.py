"""torch_check entries of the distill family: Liger-Kernel's generalised
Jensen-Shannon divergence (jsd_loss), TRL's per-sequence log-probabilities
(sequence_log_probs) and TRL's DPO loss types (dpo_loss).

The references are the published definitions in torch ops, float64, with
autograd for every gradient:

  jsd_loss            log Q = log_softmax(input/tau), log P =
                      log_softmax(target/tau); beta = 0: F.kl_div(log Q, log P)
                      (KL(P||Q)), beta = 1: F.kl_div(log P, log Q) (KL(Q||P)),
                      else log M = logsumexp(log beta + log P, log(1-beta) + log Q)
                      and beta KL(P||M) + (1-beta) KL(Q||M); summed over the
                      vocabulary, rows whose label is ignore_index dropped,
                      the mean over the rows kept (Liger's). Gradients
                      w.r.t. both logits.
  sequence_log_probs  gather(log_softmax(input), target) times the mask
                      (target != ignore_index, mask != 0), summed per
                      sequence (average_log_prob: divided by the count), as
                      TRL's get_batch_logps without its label shift; the
                      gradient of sum(grad_output * output).
  dpo_loss            TRL's DPOTrainer.dpo_loss: logits = (pc - pr) - (rc - rr);
                      sigmoid: -(1-ls) logsigmoid(beta logits) - ls logsigmoid(-beta logits);
                      hinge: relu(1 - beta logits); ipo: (logits - 1/(2 beta))^2;
                      rewards beta (policy - reference), detached.

The generators leave out what autograd cannot differentiate as lossengine
does: a mean over no rows or tokens (torch's 0/0 gives NaN gradients where
lossengine gives 0) and hinge margins at the kink.
"""

import math

import torch
import torch.nn.functional as F

NAMES = ["jsd_loss", "sequence_log_probs", "dpo_loss"]


def _t(shape, data):
    return {"shape": list(shape), "data": data}


def _gen_jsd(tc):
    def gen(rng, i):
        n = rng.choice([0, 1, 2, 3, 5, 9]) if i % 7 else 4
        v = rng.choice([1, 2, 3, 7, 16, 33])
        scale = rng.choice([0.5, 2.0, 5.0])
        x, y = tc.gauss_data(rng, n * v, scale), tc.gauss_data(rng, n * v, scale)
        opts = {}
        beta = [None, 0.0, 1.0, 0.3, 0.5, 0.9][i % 6]
        if beta is not None:
            opts["beta"] = beta
        if i % 4 == 1:
            opts["temperature"] = rng.choice([0.5, 2.0, 3.0])
        red = [None, "sum", "none", "mean"][i % 4]
        if red is not None:
            opts["reduction"] = red
        inputs = {"input": _t([n, v], x), "target": _t([n, v], y)}
        if i % 3 == 0 and n > 0:
            ign = -100 if i % 2 else 7
            if ign != -100:
                opts["ignore_index"] = ign
            lab = [ign if rng.random() < 0.4 else rng.randrange(max(v, 1)) for _ in range(n)]
            if red in (None, "mean") and all(l == ign for l in lab):
                lab[0] = 0 if ign != 0 else 1
            inputs["labels"] = _t([n], lab)
        return {"loss": "jsd_loss", "options": opts, "inputs": inputs}
    return gen


def _jsd_rows(x, y, beta, tau):
    lq = F.log_softmax(x / tau, dim=-1)
    lp = F.log_softmax(y / tau, dim=-1)
    if beta == 0:
        return F.kl_div(lq, lp, reduction="none", log_target=True).sum(-1)
    if beta == 1:
        return F.kl_div(lp, lq, reduction="none", log_target=True).sum(-1)
    lm = torch.logsumexp(torch.stack([math.log(beta) + lp, math.log(1 - beta) + lq]), dim=0)
    return (beta * F.kl_div(lm, lp, reduction="none", log_target=True).sum(-1)
            + (1 - beta) * F.kl_div(lm, lq, reduction="none", log_target=True).sum(-1))


def _ref_jsd(tc):
    def ref(req):
        ins, o = req["inputs"], req["options"]
        x = tc.to_torch(ins["input"], True)
        y = tc.to_torch(ins["target"], True)
        beta, tau = o.get("beta", 0.5), o.get("temperature", 1.0)
        red = o.get("reduction", "mean")
        per = _jsd_rows(x, y, beta, tau)
        keep = torch.ones_like(per)
        if "labels" in ins:
            lab = torch.tensor([int(v) for v in ins["labels"]["data"]], dtype=torch.long)
            keep = (lab != o.get("ignore_index", -100)).to(per.dtype)
        per = per * keep
        if red == "none":
            loss = per
        elif red == "sum":
            loss = per.sum()
        else:
            loss = per.sum() / keep.sum()
        if loss.numel() > 0:
            loss.backward(torch.ones_like(loss))
        gx = x.grad if x.grad is not None else torch.zeros_like(x)
        gy = y.grad if y.grad is not None else torch.zeros_like(y)
        return {"loss": tc.loss_json(loss, red), "grads": {"input": tc.from_torch(gx), "target": tc.from_torch(gy)}}
    return ref


def _gen_seq(tc):
    def gen(rng, i):
        b = rng.choice([0, 1, 2, 3]) if i % 5 else 2
        t = rng.choice([1, 2, 4, 7])
        v = rng.choice([1, 2, 5, 17])
        opts = {}
        avg = i % 2 == 1
        if avg:
            opts["average_log_prob"] = True
        ign = -100
        if i % 3 == 2:
            ign = 0
            opts["ignore_index"] = 0
        tg = [ign if rng.random() < 0.25 else rng.randrange(v) for _ in range(b * t)]
        mask = [0 if rng.random() < 0.25 else 1 for _ in range(b * t)]
        use_mask = i % 4 >= 2
        for s in range(b):  # the mean needs a counted token in each sequence
            j = s * t
            if avg and not any(tg[j + k] != ign and (not use_mask or mask[j + k]) for k in range(t)):
                tg[j] = 1 if ign == 0 and v > 1 else (0 if ign != 0 else tg[j])
                mask[j] = 1
        if avg and ign == 0 and v == 1:  # every target would be ignored
            opts.pop("ignore_index")
            tg = [0] * (b * t)
        inputs = {"input": _t([b, t, v], tc.gauss_data(rng, b * t * v, 3.0)), "target": _t([b, t], tg)}
        if use_mask:
            inputs["mask"] = _t([b, t], mask)
        if i % 3 == 0:
            inputs["grad_output"] = _t([b], tc.gauss_data(rng, b))
        return {"loss": "sequence_log_probs", "options": opts, "inputs": inputs}
    return gen


def _ref_seq(tc):
    def ref(req):
        ins, o = req["inputs"], req["options"]
        x = tc.to_torch(ins["input"], True)
        b, t, _ = ins["input"]["shape"]
        tg = torch.tensor([int(v) for v in ins["target"]["data"]], dtype=torch.long).reshape(b, t)
        keep = tg != o.get("ignore_index", -100)
        if "mask" in ins:
            keep = keep & (torch.tensor([int(v) for v in ins["mask"]["data"]], dtype=torch.long).reshape(b, t) != 0)
        safe = torch.where(keep, tg, torch.zeros_like(tg))
        tok = torch.gather(F.log_softmax(x, dim=-1), 2, safe.unsqueeze(-1)).squeeze(-1) * keep
        out = tok.sum(-1)
        if o.get("average_log_prob"):
            out = out / keep.sum(-1)
        g = tc.to_torch(ins["grad_output"]) if "grad_output" in ins else torch.ones_like(out)
        if out.numel() > 0:
            out.backward(g)
        gx = x.grad if x.grad is not None else torch.zeros_like(x)
        return {"output": tc.from_torch(out), "grads": {"input": tc.from_torch(gx)}}
    return ref


DPO_INPUTS = ["policy_chosen_logps", "policy_rejected_logps", "reference_chosen_logps", "reference_rejected_logps"]


def _gen_dpo(tc):
    def gen(rng, i):
        n = rng.choice([0, 1, 2, 5, 16]) if i % 6 else 8
        typ = [None, "sigmoid", "hinge", "ipo"][i % 4]
        opts = {}
        if typ is not None:
            opts["loss_type"] = typ
        if i % 3 == 1:
            opts["beta"] = rng.choice([0.05, 0.5, 2.0])
        if i % 5 == 2:
            opts["label_smoothing"] = rng.choice([0.1, 0.3])
        red = [None, "sum", "none"][i % 3]
        if red is not None:
            opts["reduction"] = red
        if red in (None, "mean") and n == 0:
            n = 1
        inputs = {k: _t([n], tc.gauss_data(rng, n, 20.0, -50.0)) for k in DPO_INPUTS}
        return {"loss": "dpo_loss", "options": opts, "inputs": inputs}
    return gen


def _ref_dpo(tc):
    def ref(req):
        ins, o = req["inputs"], req["options"]
        pc = tc.to_torch(ins["policy_chosen_logps"], True)
        pr = tc.to_torch(ins["policy_rejected_logps"], True)
        rc = tc.to_torch(ins["reference_chosen_logps"])
        rr = tc.to_torch(ins["reference_rejected_logps"])
        beta, ls = o.get("beta", 0.1), o.get("label_smoothing", 0.0)
        typ, red = o.get("loss_type", "sigmoid"), o.get("reduction", "mean")
        logits = (pc - pr) - (rc - rr)
        if typ == "sigmoid":
            per = -F.logsigmoid(beta * logits) * (1 - ls) - F.logsigmoid(-beta * logits) * ls
        elif typ == "hinge":
            per = torch.relu(1 - beta * logits)
        else:
            per = (logits - 1 / (2 * beta)) ** 2
        loss = per if red == "none" else (per.sum() if red == "sum" else per.mean())
        if loss.numel() > 0:
            loss.backward(torch.ones_like(loss))
        g = lambda t: tc.from_torch(t.grad if t.grad is not None else torch.zeros_like(t))
        return {"loss": tc.loss_json(loss, red), "grads": {"policy_chosen_logps": g(pc), "policy_rejected_logps": g(pr)},
                "outputs": {"chosen_rewards": tc.from_torch((beta * (pc - rc)).detach()),
                            "rejected_rewards": tc.from_torch((beta * (pr - rr)).detach())}}
    return ref


def losses(tc):
    return {"jsd_loss": (_gen_jsd(tc), _ref_jsd(tc)), "sequence_log_probs": (_gen_seq(tc), _ref_seq(tc)),
            "dpo_loss": (_gen_dpo(tc), _ref_dpo(tc))}
