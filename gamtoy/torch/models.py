"""Models for the training command, defined here (no torchvision): mlp, resnet18, wrn28-2.

`build(name, in_shape, classes, width=None)`; `width` scales the channel counts (tests use tiny
widths). The ResNet-18 is the CIFAR variant (3x3 stem, no max-pool; He et al. 2016), the
WRN-28-2 the pre-activation wide ResNet (Zagoruyko & Komodakis 2016).
"""
import math

from torch import nn

NAMES = ("mlp", "resnet18", "wrn28-2")


def mlp(in_dim, classes, width=256, depth=2):
    """Flatten, `depth` hidden ReLU layers of `width` units, linear head."""
    layers, d = [nn.Flatten()], in_dim
    for _ in range(depth):
        layers += [nn.Linear(d, width), nn.ReLU()]
        d = width
    return nn.Sequential(*layers, nn.Linear(d, classes))


class BasicBlock(nn.Module):
    """ResNet basic block: conv-BN-ReLU-conv-BN plus a (projected) shortcut."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = self.bn1(self.conv1(x)).relu()
        return (self.bn2(self.conv2(out)) + self.shortcut(x)).relu()


class ResNet18(nn.Module):
    """CIFAR ResNet-18: four stages of two basic blocks, widths w, 2w, 4w, 8w."""

    def __init__(self, classes=10, width=64, in_channels=3):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU())
        blocks, c = [], width
        for i, stride in enumerate((1, 2, 2, 2)):
            c_out = width * 2 ** i
            blocks += [BasicBlock(c, c_out, stride), BasicBlock(c_out, c_out, 1)]
            c = c_out
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(c, classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.head(x.mean(dim=(2, 3)))


class WideBlock(nn.Module):
    """Pre-activation wide block: BN-ReLU-conv-BN-ReLU-conv plus a (projected) shortcut."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.bn1, self.bn2 = nn.BatchNorm2d(c_in), nn.BatchNorm2d(c_out)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.project = None
        if stride != 1 or c_in != c_out:
            self.project = nn.Conv2d(c_in, c_out, 1, stride, bias=False)

    def forward(self, x):
        o = self.bn1(x).relu()
        shortcut = x if self.project is None else self.project(o)
        return self.conv2(self.bn2(self.conv1(o)).relu()) + shortcut


class WideResNet(nn.Module):
    """WRN-depth-k: three stages of (depth-4)/6 wide blocks, widths 16k, 32k, 64k (16 = width)."""

    def __init__(self, classes=10, depth=28, k=2, width=16, in_channels=3):
        super().__init__()
        n = (depth - 4) // 6
        self.stem = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        blocks, c = [], width
        for i, stride in enumerate((1, 2, 2)):
            c_out = width * k * 2 ** i
            for j in range(n):
                blocks.append(WideBlock(c, c_out, stride if j == 0 else 1))
                c = c_out
        self.blocks = nn.Sequential(*blocks)
        self.bn = nn.BatchNorm2d(c)
        self.head = nn.Linear(c, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.bn(self.blocks(self.stem(x))).relu()
        return self.head(x.mean(dim=(2, 3)))


def build(name, in_shape, classes, width=None):
    """The model `name` for inputs of shape `in_shape` (without batch) and `classes` outputs."""
    if name == "mlp":
        return mlp(math.prod(in_shape), classes, width or 256)
    if len(in_shape) != 3:
        raise ValueError(f"{name} needs image inputs (C, H, W), got shape {tuple(in_shape)}")
    if name == "resnet18":
        return ResNet18(classes, width or 64, in_shape[0])
    if name == "wrn28-2":
        return WideResNet(classes, 28, 2, width or 16, in_shape[0])
    raise ValueError(f"unknown model {name!r}; valid: {', '.join(NAMES)}")
