"""Projection head: the MLP between the representation and the loss (SimCLR, arXiv:2002.05709)."""

from __future__ import annotations

from torch import Tensor, nn


class ProjectionHead(nn.Module):
    """`num_layers` linear layers with BatchNorm + ReLU between them.

    SimCLR preset: `ProjectionHead(in_dim, 2048, 128, num_layers=2)`; the loss is applied to
    the head's output while downstream tasks use the encoder's output (the head discards
    information the views do not share, arXiv:2002.05709 Sec. 4.2). `output_bn` ends the
    head with a BatchNorm without affine parameters and the last layer without bias, as
    SimSiam's projector (arXiv:2011.10566, Sec. 4.4 and the authors' code).

    Shape:
        input (B, in_dim) -> output (B, out_dim).
    """

    def __init__(
        self,
        in_dim: int,
        hidden_dim: int,
        out_dim: int,
        *,
        num_layers: int = 2,
        output_bn: bool = False,
    ) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        if min(in_dim, hidden_dim, out_dim) < 1:
            raise ValueError(f"dims must be >= 1, got {in_dim}, {hidden_dim}, {out_dim}")
        layers: list[nn.Module] = []
        dims = [in_dim] + [hidden_dim] * (num_layers - 1) + [out_dim]
        for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
            last = i == num_layers - 1
            layers.append(nn.Linear(d_in, d_out, bias=last and not output_bn))
            if not last:
                layers += [nn.BatchNorm1d(d_out), nn.ReLU(inplace=True)]
        if output_bn:
            layers.append(nn.BatchNorm1d(out_dim, affine=False))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.net(x)
        return out
