"""Writes tests/fixtures/torch_geometry.json: convolution, transposed
convolution and pooling cases computed by PyTorch (forward, and the
gradients of sum(g * forward) for a random g), as an outside oracle.

Run with Debian's PyTorch: `apt-get install python3-torch`, then
`/usr/bin/python3 scripts/torch_geometry_fixtures.py`. CI does not need it:
the fixture is committed. Tensors are stored in this library's layouts
(NHWC activations, [kH, kW, cIn/groups, cOut] conv filters,
[kH, kW, cOut/groups, cIn] transposed-conv filters), rounded to float32.
"""
import json
import torch
import torch.nn.functional as F

torch.manual_seed(20261127)
torch.set_default_dtype(torch.float64)


def nhwc(t):
    return t.permute(0, 2, 3, 1).contiguous()


def flat(t):
    return [float(v) for v in t.detach().to(torch.float32).reshape(-1).tolist()]


def rand(*shape):
    return torch.randn(*shape).to(torch.float32).to(torch.float64)


cases = []


def conv(name, n, c_in, h, w, c_out, k, stride=1, padding=0, dilation=1, groups=1, pads=None):
    """padding: PyTorch's (symmetric int/tuple or 'same'); pads: [top, bottom, left, right] via F.pad."""
    x = rand(n, c_in, h, w).requires_grad_()
    wt = rand(c_out, c_in // groups, k[0], k[1]).requires_grad_()
    b = rand(c_out).requires_grad_()
    xin = F.pad(x, (pads[2], pads[3], pads[0], pads[1])) if pads else x
    z = F.conv2d(xin, wt, b, stride=stride, padding=padding if not pads else 0, dilation=dilation, groups=groups)
    g = rand(*z.shape)
    (z * g).sum().backward()
    if pads:
        ours_pad = list(pads)
    elif padding == "same":
        ours_pad = "same"
    else:
        p = padding if isinstance(padding, tuple) else (padding, padding)
        ours_pad = [p[0], p[1]]
    hp = {"stride": list(stride) if isinstance(stride, tuple) else stride, "pad": ours_pad,
          "dilation": list(dilation) if isinstance(dilation, tuple) else dilation, "groups": groups}
    cases.append({
        "op": "conv", "name": name, "hp": hp,
        "x": {"shape": list(nhwc(x).shape), "data": flat(nhwc(x))},
        "w": {"shape": [k[0], k[1], c_in // groups, c_out], "data": flat(wt.permute(2, 3, 1, 0))},
        "b": flat(b),
        "z": {"shape": list(nhwc(z).shape), "data": flat(nhwc(z))},
        "g": flat(nhwc(g)),
        "dx": flat(nhwc(x.grad)), "dw": flat(wt.grad.permute(2, 3, 1, 0)), "db": flat(b.grad),
    })


def conv_t(name, n, c_in, h, w, c_out, k, stride=1, padding=0, output_padding=0, dilation=1, groups=1):
    x = rand(n, c_in, h, w).requires_grad_()
    wt = rand(c_in, c_out // groups, k[0], k[1]).requires_grad_()
    b = rand(c_out).requires_grad_()
    z = F.conv_transpose2d(x, wt, b, stride=stride, padding=padding, output_padding=output_padding,
                           groups=groups, dilation=dilation)
    g = rand(*z.shape)
    (z * g).sum().backward()
    two = lambda v: list(v) if isinstance(v, tuple) else v
    p = padding if isinstance(padding, tuple) else (padding, padding)
    hp = {"stride": two(stride), "pad": [p[0], p[1]], "outputPadding": two(output_padding),
          "dilation": two(dilation), "groups": groups}
    cases.append({
        "op": "convTranspose", "name": name, "hp": hp,
        "x": {"shape": list(nhwc(x).shape), "data": flat(nhwc(x))},
        # torch [cIn, cOut/groups, kH, kW] -> ours [kH, kW, cOut/groups, cIn]
        "w": {"shape": [k[0], k[1], c_out // groups, c_in], "data": flat(wt.permute(2, 3, 1, 0))},
        "b": flat(b),
        "z": {"shape": list(nhwc(z).shape), "data": flat(nhwc(z))},
        "g": flat(nhwc(g)),
        "dx": flat(nhwc(x.grad)), "dw": flat(wt.grad.permute(2, 3, 1, 0)), "db": flat(b.grad),
    })


def pool(name, mode, n, c, h, w, k, stride=None, padding=0, dilation=1, ceil_mode=False, count_include_pad=False):
    # Distinct values, so that max pooling has no ties.
    x = (torch.randperm(n * c * h * w).to(torch.float64) * 0.01 - 1).reshape(n, c, h, w).requires_grad_()
    if mode == "max":
        z = F.max_pool2d(x, k, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    else:
        z = F.avg_pool2d(x, k, stride=stride, padding=padding, ceil_mode=ceil_mode,
                         count_include_pad=count_include_pad)
    g = rand(*z.shape)
    (z * g).sum().backward()
    two = lambda v: list(v) if isinstance(v, tuple) else v
    p = padding if isinstance(padding, tuple) else (padding, padding)
    hp = {"f": two(k), "pad": [p[0], p[1]], "dilation": two(dilation), "ceilMode": ceil_mode,
          "countIncludePad": count_include_pad}
    if stride is not None:
        hp["stride"] = two(stride)
    cases.append({
        "op": "pool", "mode": mode, "name": name, "hp": hp,
        "x": {"shape": list(nhwc(x).shape), "data": flat(nhwc(x))},
        "z": {"shape": list(nhwc(z).shape), "data": flat(nhwc(z))},
        "g": flat(nhwc(g)), "dx": flat(nhwc(x.grad)),
    })


conv("plain 3x3 pad 1", 2, 3, 7, 6, 5, (3, 3), padding=1)
conv("stride (2, 1), non-square kernel", 1, 4, 9, 8, 6, (3, 2), stride=(2, 1), padding=(1, 0))
conv("dilation 2", 1, 3, 9, 9, 4, (3, 3), dilation=2, padding=2)
conv("dilation (1, 3), stride 2", 2, 2, 10, 11, 3, (2, 3), stride=2, dilation=(1, 3))
conv("groups 2", 1, 4, 6, 7, 6, (3, 3), groups=2, padding=1)
conv("depthwise", 2, 6, 8, 7, 6, (3, 3), groups=6, padding=1)
conv("depthwise x2 stride 2", 1, 5, 9, 9, 10, (3, 3), stride=2, groups=5, padding=1)
conv("same, even kernel", 1, 3, 7, 8, 4, (4, 2), padding="same")
conv("asymmetric pad (stride 2 'same' as TF)", 1, 3, 8, 8, 5, (3, 3), stride=2, pads=[0, 1, 0, 1])
conv("asymmetric pad, dilation, groups", 1, 4, 9, 7, 4, (3, 2), stride=(1, 2), dilation=(2, 1), groups=2,
     pads=[2, 0, 1, 3])
conv_t("2x2 stride 2", 1, 4, 5, 6, 3, (2, 2), stride=2)
conv_t("3x3 stride 2 pad 1 output_padding 1", 2, 3, 4, 5, 4, (3, 3), stride=2, padding=1, output_padding=1)
conv_t("groups 2, dilation 2", 1, 4, 4, 4, 6, (3, 3), stride=1, padding=1, dilation=2, groups=2)
conv_t("non-square, stride (2, 3)", 1, 2, 3, 4, 3, (2, 3), stride=(2, 3), padding=(0, 1), output_padding=(1, 2))
pool("max 2x2", "max", 2, 3, 7, 8, 2)
pool("max 3x3 s2 p1 ceil", "max", 1, 4, 9, 10, 3, stride=2, padding=1, ceil_mode=True)
pool("max dilation 2", "max", 1, 3, 9, 9, 3, stride=1, padding=1, dilation=2)
pool("max (2, 3) stride (1, 2) ceil", "max", 2, 2, 7, 9, (2, 3), stride=(1, 2), ceil_mode=True)
pool("avg 3x3 s2 p1 count_include_pad", "average", 1, 4, 9, 10, 3, stride=2, padding=1, count_include_pad=True)
pool("avg 3x3 s2 p1 exclude pad", "average", 1, 4, 9, 10, 3, stride=2, padding=1)
pool("avg 2x2 s2 p1 ceil include pad", "average", 2, 3, 7, 7, 2, stride=2, padding=1, ceil_mode=True,
     count_include_pad=True)
pool("avg (3, 2) ceil exclude pad", "average", 1, 3, 8, 7, (3, 2), stride=2, padding=(1, 0), ceil_mode=True)

out = {"generator": "scripts/torch_geometry_fixtures.py", "torch": torch.__version__, "cases": cases}
with open("tests/fixtures/torch_geometry.json", "w") as f:
    json.dump(out, f, separators=(",", ":"))
print(f"wrote tests/fixtures/torch_geometry.json: {len(cases)} cases")
