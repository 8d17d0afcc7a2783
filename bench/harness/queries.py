"""Seeded query sets, as readers type them: the same queries in every run, so runs compare."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable

from paperfeed.models import Paper

# Topic queries across the fields of the arXiv snapshot (bench/scale.py; also in the others).
TOPIC_QUERIES = [
    "graph neural networks for molecules", "pairwise ranking loss",
    "self-supervised representation learning", "dark matter halo", "quantum error correction",
    "large language model hallucination", "diffusion models for image generation",
    "federated learning with differential privacy", "reinforcement learning from human feedback",
    "vision transformer object detection", "neural machine translation low-resource languages",
    "adversarial examples robustness", "contrastive learning of sentence embeddings",
    "retrieval augmented generation", "byzantine fault tolerant consensus",
    "approximate nearest neighbor search", "model predictive control autonomous driving",
    "simultaneous localization and mapping", "end-to-end speech recognition",
    "knowledge graph completion", "causal inference from observational data",
    "bayesian optimization of hyperparameters", "convergence of stochastic gradient descent",
    "sparse matrix multiplication on GPUs", "program synthesis from examples",
    "gravitational waves from binary black hole mergers",
    "exoplanet atmosphere transmission spectroscopy", "cosmic microwave background polarization",
    "topological insulators", "high temperature superconductivity in cuprates",
    "Higgs boson decays", "neutrino oscillations", "many-body localization",
    "regularity of Navier-Stokes equations", "random matrix eigenvalue statistics",
    "distribution of prime numbers", "protein structure prediction",
    "COVID-19 epidemic model", "optimal transport", "graph coloring algorithms",
]

# More computer-science queries (bench/load.py rotates these with the topics).
LOAD_QUERIES = [
    "transformer attention efficiency", "few-shot learning", "graph convolutional network",
    "generative adversarial networks", "image segmentation", "question answering",
    "recommender systems collaborative filtering", "differential privacy",
    "smart contract verification", "explainable artificial intelligence",
]

# Saved searches as computer-science readers write them (bench/digests.py).
CS_QUERIES = [
    "transformer language models", "graph neural networks", "few-shot learning",
    "meta-learning", "neural architecture search", "knowledge distillation",
    "model compression and pruning", "quantization of neural networks",
    "generative adversarial networks", "variational autoencoders", "normalizing flows",
    "image segmentation", "semantic segmentation of street scenes", "3d point cloud",
    "pose estimation", "face recognition", "video action recognition", "visual question answering",
    "image captioning", "text classification", "named entity recognition", "question answering",
    "machine reading comprehension", "dialogue systems", "text summarization",
    "sentiment analysis", "word embeddings", "BERT fine-tuning", "cross-lingual transfer",
    "speech synthesis", "speaker verification", "recommender systems",
    "collaborative filtering", "click-through rate prediction", "learning to rank",
    "information retrieval", "multi-armed bandits", "offline reinforcement learning",
    "multi-agent reinforcement learning", "imitation learning", "robot grasping",
    "motion planning", "autonomous vehicles", "anomaly detection", "time series forecasting",
    "interpretability of deep networks", "fairness in machine learning",
    "privacy-preserving machine learning", "membership inference attacks", "backdoor attacks",
    "malware detection", "intrusion detection", "blockchain smart contracts",
    "software vulnerability detection", "fuzzing", "static analysis", "program verification",
    "type systems", "compiler optimization", "distributed systems", "cloud computing scheduling",
    "edge computing", "serverless computing", "database query optimization",
    "graph databases", "stream processing", "wireless networks", "5G networks",
    "network function virtualization", "software defined networking", "internet of things",
    "energy efficient deep learning hardware", "FPGA accelerator", "approximation algorithms",
    "online algorithms", "parameterized complexity", "computational geometry",
    "graph partitioning", "submodular optimization", "combinatorial optimization",
    "SAT solving", "formal verification of neural networks", "human-computer interaction",
    "crowdsourcing", "social network analysis", "misinformation detection",
    "hate speech detection", "medical image analysis", "drug discovery",
    "natural language inference", "commonsense reasoning", "domain adaptation",
    "continual learning", "active learning", "semi-supervised learning",
    "uncertainty estimation", "gaussian processes", "variational inference",
    "neural ordinary differential equations", "attention mechanisms", "capsule networks",
]
VARIATIONS = ("{q} survey", "efficient {q}", "{q} benchmark", "deep learning for {q}",
              "robust {q}", "scalable {q}")

EDGE_STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "based", "by", "for", "from", "in", "into", "is", "of",
    "on", "or", "the", "to", "towards", "under", "using", "via", "with", "without",
})
MATH = re.compile(r"\$[^$]*\$")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9'\-]*")


def title_spans(papers: Iterable[Paper], n: int, rng: random.Random) -> list[str]:
    """Up to `n` spans of 3-6 title words that neither start nor end on a stop word,
    one per paper: what someone who half-remembers a title types."""
    queries: list[str] = []
    for paper in papers:
        words = [w.strip("-'") for w in WORD.findall(MATH.sub(" ", paper.title))]
        words = [w for w in words if w]
        spans = [(start, size) for size in range(3, min(6, len(words)) + 1)
                 for start in range(len(words) - size + 1)
                 if words[start].lower() not in EDGE_STOPWORDS
                 and words[start + size - 1].lower() not in EDGE_STOPWORDS]
        if not spans:
            continue
        start, size = rng.choice(spans)
        queries.append(" ".join(words[start:start + size]))
        if len(queries) == n:
            break
    return queries


def saved_searches(n: int, rng: random.Random) -> list[str]:
    """~n saved searches in a seeded popularity order: the hand-written ones, a few case
    variants (the digest sender's cache is case-insensitive) and variations."""
    base = list(dict.fromkeys(CS_QUERIES + TOPIC_QUERIES))
    found = list(base)
    found += [q.title() for q in rng.sample(base, 8)]
    while len(found) < n:
        candidate = rng.choice(VARIATIONS).format(q=rng.choice(base))
        if candidate not in found:
            found.append(candidate)
    rng.shuffle(found)  # popularity rank: not the order written above
    return found[:n]
