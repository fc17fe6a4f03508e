"""Side-by-side benchmark of tabvae against SDV's generators (not part of the library).

Run ``python -m benchmarks.run --help`` and ``python -m benchmarks.report``;
see ``benchmarks/README.md``.
"""
