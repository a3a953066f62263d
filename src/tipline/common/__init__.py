"""What two or more stages truly share: the pipeline's shape, workers, ids, evidence store."""
