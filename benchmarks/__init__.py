"""Benchmarks: the portal design next to the raw a2a-sdk client and the usual workaround.

Run `python -m benchmarks` from the repository root (`--help` for the flags). It starts
the demo agent on loopback itself, alternates the contenders of each comparison and
reports medians of several rounds, so the ratios hold on a noisy machine.
"""
