"""Contrastive and self-supervised losses: pure functions over embeddings + thin modules.

Every function takes embeddings (never a model), returns a scalar, does its math in
float32 under autocast and validates shapes and hyperparameters with ``ValueError``.
Pairwise losses take ``chunk_size`` (similarity matrix in row blocks, recomputed in
backward) and ``gather`` (negatives from all ranks, see ``contrastkit.distributed``).
"""

from contrastkit.losses.barlow_twins import BarlowTwinsLoss, barlow_twins
from contrastkit.losses.dcl import DCLLoss, dcl, dcl_weighted
from contrastkit.losses.dino import DINOLoss, dino
from contrastkit.losses.info_nce import InfoNCELoss, info_nce
from contrastkit.losses.miners import Triplets, batch_hard, distance_weighted, semi_hard
from contrastkit.losses.negative_cosine import BYOLLoss, NegativeCosineLoss, byol, negative_cosine
from contrastkit.losses.nt_xent import NTXentLoss, nt_xent
from contrastkit.losses.pairs import MarginContrastiveLoss, NPairLoss, margin_contrastive, n_pair
from contrastkit.losses.sampled_softmax import SampledSoftmaxLoss, sampled_softmax
from contrastkit.losses.sigmoid_pairs import SigmoidPairsLoss, sigmoid_pairs
from contrastkit.losses.supcon import SupConLoss, supcon
from contrastkit.losses.swav import SwAVLoss, sinkhorn_knopp, swav
from contrastkit.losses.triplet import MinedTripletLoss, TripletLoss, triplet
from contrastkit.losses.vicreg import VICRegLoss, vicreg

__all__ = [
    "BYOLLoss",
    "BarlowTwinsLoss",
    "DCLLoss",
    "DINOLoss",
    "InfoNCELoss",
    "MarginContrastiveLoss",
    "MinedTripletLoss",
    "NPairLoss",
    "NTXentLoss",
    "NegativeCosineLoss",
    "SampledSoftmaxLoss",
    "SigmoidPairsLoss",
    "SupConLoss",
    "SwAVLoss",
    "TripletLoss",
    "Triplets",
    "VICRegLoss",
    "barlow_twins",
    "batch_hard",
    "byol",
    "dcl",
    "dcl_weighted",
    "dino",
    "distance_weighted",
    "info_nce",
    "margin_contrastive",
    "n_pair",
    "negative_cosine",
    "nt_xent",
    "sampled_softmax",
    "semi_hard",
    "sigmoid_pairs",
    "sinkhorn_knopp",
    "supcon",
    "swav",
    "triplet",
    "vicreg",
]
