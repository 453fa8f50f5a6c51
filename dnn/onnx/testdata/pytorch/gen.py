# Writes the torch.onnx.export fixtures of TestDecodePyTorchExports and the
# logits PyTorch computes for each on the input x[i] = sin(0.37 i + 0.1).
# Made with Debian's python3-torch 1.13 and python3-onnx 1.12:
#   apt-get install python3-torch python3-onnx && python3 gen.py
import json, math
import torch, torch.nn as nn, torch.nn.functional as F

torch.manual_seed(0)


class Block(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.c1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        s.b1 = nn.BatchNorm2d(c)
        s.c2 = nn.Conv2d(c, c, 3, padding=1, groups=2, bias=False)
        s.b2 = nn.BatchNorm2d(c)

    def forward(s, x):
        y = F.relu(s.b1(s.c1(x)))
        return F.relu(s.b2(s.c2(y)) + x)


class Net(nn.Module):
    def __init__(s, flat):
        super().__init__()
        s.flat = flat
        s.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        s.bn = nn.BatchNorm2d(8)
        s.pool = nn.MaxPool2d(2, ceil_mode=True)
        s.block = Block(8)
        s.avg = nn.AvgPool2d(2)  # count_include_pad=True: exported as Pad + AveragePool
        s.drop = nn.Dropout(0.3)
        s.fc = nn.Linear(8, 10)

    def forward(s, x):
        x = s.block(s.pool(F.relu(s.bn(s.stem(x)))))
        if s.flat == "view":
            x = s.avg(x)
            x = x.view(x.size(0), -1)
        elif s.flat == "flatten":
            x = torch.flatten(s.avg(x), 1)
        elif s.flat == "mean":
            x = x.mean((2, 3))
        return s.fc(s.drop(x))


class MatMulNet(nn.Module):
    def __init__(s):
        super().__init__()
        s.conv = nn.Conv2d(1, 3, (3, 2), stride=(1, 2), padding=(1, 0))
        s.w = nn.Parameter(torch.randn(36, 5))
        s.b = nn.Parameter(torch.randn(5))

    def forward(s, x):
        return F.relu(s.conv(x)).flatten(1) @ s.w + s.b


class PadConv(nn.Module):
    def __init__(s):
        super().__init__()
        s.c = nn.Conv2d(2, 4, 3, stride=2, padding=1)
        s.avg = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        s.fc = nn.Linear(64, 6, bias=False)

    def forward(s, x):
        x = F.relu(s.c(F.pad(x, (1, 2, 0, 1))))
        return s.fc(nn.Flatten()(s.avg(x)))


N = {"input": {0: "N"}}
PRESERVE = torch.onnx.TrainingMode.PRESERVE
cases = [
    # BatchNormalization kept, x.view(x.size(0), -1) as Shape/Gather/Unsqueeze/Concat/Reshape.
    ("resnet_bn_view_op13", Net("view"), (3, 8, 8), dict(opset_version=13, training=PRESERVE, dynamic_axes=N)),
    # BatchNormalization folded by the exporter, ReduceMean without keepdims.
    ("resnet_mean_op13", Net("mean"), (3, 8, 8), dict(opset_version=13, dynamic_axes=N)),
    # Fixed batch of 1: the reshape target is the constant [1, -1].
    ("resnet_view_static_op13", Net("view"), (3, 8, 8), dict(opset_version=13)),
    # Opset 9 with the initializers also listed as graph inputs.
    ("resnet_flatten_op9", Net("flatten"), (3, 8, 8), dict(opset_version=9, keep_initializers_as_inputs=True)),
    ("matmul_add_op13", MatMulNet(), (1, 6, 4), dict(opset_version=13, dynamic_axes=N)),
    # Pad (attribute form) merged into the Conv; a Linear without bias as MatMul.
    ("pad_conv_op10", PadConv(), (2, 7, 5), dict(opset_version=10, dynamic_axes=N)),
]
logits = {}
for name, m, shape, kw in cases:
    m.eval()
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 1.5)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.5, 0.5)
    n = math.prod(shape)
    x = torch.tensor([math.sin(0.37 * i + 0.1) for i in range(n)], dtype=torch.float32).reshape(1, *shape)
    with torch.no_grad():
        logits[name] = m(x).flatten().tolist()
    torch.onnx.export(m, x, name + ".onnx", input_names=["input"], output_names=["logits"], **kw)
with open("logits.json", "w") as f:
    json.dump(logits, f, indent=1)
