"""``tabvae.augment``: :func:`augment` and :class:`TabVAEResampler` (see :mod:`tabvae.augmentation`)."""

from .augmentation import TabVAEResampler, augment

__all__ = ["TabVAEResampler", "augment"]
