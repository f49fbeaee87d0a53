"""Speech front-end: loading, resampling, phone alignment, prosody."""
