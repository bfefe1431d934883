"""Operations: the aiguillage command, the worker, the purge, the production profile."""
