"""One small real corpus (espeak-ng, sox, pocketsphinx) shared by the corpus and training tests."""

from __future__ import annotations

import pytest

from model_server.train.corpus import CorpusConfig, build_corpus

CLIPS, TEST_FRACTION = 6, 0.3


@pytest.fixture(scope="session")
def built_corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    config = CorpusConfig(out=out, clips=CLIPS, seed=3, workers=1, test_fraction=TEST_FRACTION)
    summary = build_corpus(config, log=lambda line: None)
    return config, summary
