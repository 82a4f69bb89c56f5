"""The adversarial finishing phase's discriminator (train.adversarial): it learns to tell sharp texture from
a blurred copy, judges only where the face weight is, and its loss trains the drawn faces, not itself."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from facecraft.train.adversarial import Adversary, PatchDiscriminator, face_weight


def _textures(n: int, seed: int) -> torch.Tensor:
    """(n, 3, 32, 32) skin-like: smooth shading with a faint grain of one to two pixels (a few levels)."""
    g = torch.Generator().manual_seed(seed)
    shade = F.interpolate(torch.rand(n, 3, 2, 2, generator=g), size=32, mode="bilinear", align_corners=False)
    grain = F.interpolate(torch.rand(n, 1, 16, 16, generator=g) - 0.5, size=32, mode="nearest")
    return (0.3 + 0.4 * shade + 0.04 * grain).clamp(0, 1)


def _blurred(x: torch.Tensor) -> torch.Tensor:
    k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
    k = (k[:, None] * k[None, :]) / 256
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), k.expand(3, 1, 5, 5).contiguous(), groups=3)


def test_the_discriminator_learns_to_tell_sharp_texture_from_a_blurred_copy():
    torch.manual_seed(0)
    judge = Adversary(torch.device("cpu"))
    ones = torch.ones(8, 1, 32, 32)
    before = judge.generator_loss(_blurred(_textures(8, 99)), ones) - judge.generator_loss(
        _textures(8, 99), ones
    )
    for step in range(150):
        real = _textures(8, step)
        judge.update(real, _blurred(real), ones, ones)
    sharp, soft = _textures(8, 99), _blurred(_textures(8, 99))  # faces it never saw
    after = judge.generator_loss(soft, ones) - judge.generator_loss(sharp, ones)
    # the generator loss (how unreal the judge finds them) is higher for the blurred ones
    assert float(after) > 0.8 > 0.05 > abs(float(before))  # a spectrally normalised judge: ~0.3
    assert judge.loss < 1.5  # hinge loss: 2 at chance


def test_the_generator_loss_trains_the_drawn_faces_not_the_judge_and_only_where_the_face_is():
    judge = Adversary(torch.device("cpu"))
    drawn = torch.rand(2, 3, 64, 64, requires_grad=True)
    weight = torch.zeros(2, 1, 64, 64)
    weight[:, :, 24:40, 24:40] = 1  # a patch sees ~30 px: the corners lie beyond every weighted one
    judge.generator_loss(drawn, weight).backward()
    assert drawn.grad is not None and drawn.grad.abs().sum() > 0
    assert all(p.grad is None for p in judge.net.parameters())
    assert all(p.requires_grad for p in judge.net.parameters())  # the judge still learns in its own step
    # pixels far from the weighted patches do not move the loss
    assert float(drawn.grad[:, :, :4, :4].abs().sum()) == 0.0


def test_face_weight_leaves_hair_and_glasses_out_and_patches_cover_the_face():
    masks = torch.ones(1, 3, 16, 16)
    masks[:, 2, :4] = 0  # where the loss does not apply (hair)
    w = face_weight(masks)
    assert w.shape == (1, 1, 16, 16) and float(w[0, 0, :4].sum()) == 0.0 and float(w[0, 0, 4:].min()) == 1.0
    assert face_weight(masks[:, :2]).min() == 1.0
    assert PatchDiscriminator()(torch.rand(1, 3, 64, 64)).shape == (1, 1, 15, 15)


def test_its_state_round_trips_through_the_checkpoint_tensors():
    a = Adversary(torch.device("cpu"))
    real = _textures(4, 0)
    ones = torch.ones(4, 1, 32, 32)
    a.update(real, _blurred(real), ones, ones)
    b = Adversary(torch.device("cpu"), seed=5)
    assert b.load(a.state(), a.meta())
    x = _textures(2, 3)
    assert torch.equal(a.net(x), b.net(x))
    assert not Adversary(torch.device("cpu")).load({}, None)  # a checkpoint from before: a fresh judge
