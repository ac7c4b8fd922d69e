"""contrastkit.audio: WAV reading, the log-mel front end, and speech made with espeak-ng."""
