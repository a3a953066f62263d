"""Operations: serving, workers, setup, health and benchmarks. The top of the house: it may
import every stage, and nothing imports it but urls.py."""
