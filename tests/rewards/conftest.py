"""Reward tests run Sentence-BERT on tiny batches: one torch thread is faster on a busy machine."""

import pytest


@pytest.fixture(autouse=True)
def one_torch_thread():
    import torch

    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(prev)
