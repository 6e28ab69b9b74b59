"""One parser per model family: each turns a Hugging Face config.json into ModelSpec fields."""
