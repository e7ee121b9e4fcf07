"""PyTorch reference timings for `fedattack bench` (run only when python3 can import torch).

Measures, with the same models, shapes and settings as the TypeScript benchmark:
  dlg          ms per DLG objective + gradient evaluation (the DLG paper's LeNet, 32x32x3 -> 100,
               soft-label cross-entropy, create_graph=True, gradient w.r.t. dummy image and label)
  local-step   ms per local SGD step of McMahan's CNN (28x28x1 -> 10), batch 10 and 32
  convnet-step ms per SGD step of the Inverting Gradients ConvNet (32x32x3 -> 10, batch norm), batch 64

Prints one JSON object on stdout. Usage:
  python3 bench/torch_reference.py --device cpu --threads 1 --batches 1,4,8 --convnet-width 16
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def lenet(classes=100):
    return nn.Sequential(
        nn.Conv2d(3, 12, 5, padding=2, stride=2), nn.Sigmoid(),
        nn.Conv2d(12, 12, 5, padding=2, stride=2), nn.Sigmoid(),
        nn.Conv2d(12, 12, 5, padding=2, stride=1), nn.Sigmoid(),
        nn.Flatten(), nn.Linear(768, classes))


def mcmahan_cnn(classes=10):
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(7 * 7 * 64, 512), nn.ReLU(), nn.Linear(512, classes))


def convnet(width=16, classes=10):
    w = [width, 2 * width, 2 * width, 4 * width, 4 * width, 4 * width, 4 * width, 4 * width]
    layers, cin = [], 3
    for i, c in enumerate(w):
        layers += [nn.Conv2d(cin, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU()]
        if i in (3, 5, 7):
            layers.append(nn.MaxPool2d(3))
        cin = c
    layers += [nn.Flatten(), nn.Linear(4 * width, classes)]
    return nn.Sequential(*layers)


def soft_ce(logits, target):
    return torch.mean(torch.sum(-target * F.log_softmax(logits, dim=-1), dim=-1))


def sync(device):
    if device == 'cuda':
        torch.cuda.synchronize()


def median_ms(fn, device, min_runs=30, min_seconds=1.5, warmup=5):
    for _ in range(warmup):
        fn()
    sync(device)
    times, start = [], time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), len(times)


def bench_dlg(batch, device):
    torch.manual_seed(1)
    net = lenet().to(device)
    for p in net.parameters():
        nn.init.uniform_(p, -0.5, 0.5)
    x_true = torch.randn(batch, 3, 32, 32, device=device)
    y_true = F.one_hot(torch.arange(batch, device=device) % 100, 100).float()
    target = [g.detach() for g in torch.autograd.grad(soft_ce(net(x_true), y_true), net.parameters())]
    x = torch.randn(batch, 3, 32, 32, device=device, requires_grad=True)
    y = torch.randn(batch, 100, device=device, requires_grad=True)

    def once():
        g = torch.autograd.grad(soft_ce(net(x), F.softmax(y, dim=-1)), net.parameters(), create_graph=True)
        obj = sum(((a - b) ** 2).sum() for a, b in zip(g, target))
        dx, dy = torch.autograd.grad(obj, [x, y])
        return obj.item()

    return median_ms(once, device)


def bench_step(net, x, labels, lr, device):
    opt = torch.optim.SGD(net.parameters(), lr=lr)

    def once():
        opt.zero_grad()
        loss = F.cross_entropy(net(x), labels)
        loss.backward()
        opt.step()

    return median_ms(once, device)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--batches', default='1,4,8')
    ap.add_argument('--local-batches', default='10,32')
    ap.add_argument('--convnet-width', type=int, default=16)
    ap.add_argument('--convnet-batch', type=int, default=64)
    ap.add_argument('--suites', default='dlg,local-step,convnet-step')
    a = ap.parse_args()
    if a.device == 'cpu':
        torch.set_num_threads(a.threads)
    suites = set(a.suites.split(','))
    dev = a.device
    out = {'torch': torch.__version__, 'device': dev,
           'deviceName': torch.cuda.get_device_name(0) if dev == 'cuda' else 'cpu',
           'threads': torch.get_num_threads() if dev == 'cpu' else None}
    if 'dlg' in suites:
        out['dlg'] = {}
        for b in [int(s) for s in a.batches.split(',')]:
            ms, n = bench_dlg(b, dev)
            out['dlg'][str(b)] = {'ms': ms, 'runs': n}
    if 'local-step' in suites:
        out['localStep'] = {}
        for b in [int(s) for s in a.local_batches.split(',')]:
            torch.manual_seed(2)
            net = mcmahan_cnn().to(dev)
            x = torch.rand(b, 1, 28, 28, device=dev)
            labels = torch.randint(0, 10, (b,), device=dev)
            ms, n = bench_step(net, x, labels, 0.1, dev)
            out['localStep'][str(b)] = {'ms': ms, 'runs': n}
    if 'convnet-step' in suites:
        torch.manual_seed(3)
        net = convnet(a.convnet_width).to(dev).train()
        b = a.convnet_batch
        x = torch.rand(b, 3, 32, 32, device=dev)
        labels = torch.randint(0, 10, (b,), device=dev)
        ms, n = bench_step(net, x, labels, 0.1, dev)
        out['convnetStep'] = {'batch': b, 'width': a.convnet_width, 'ms': ms, 'runs': n}
    print(json.dumps(out))


if __name__ == '__main__':
    main()
