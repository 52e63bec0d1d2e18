"""The whole-catalog sync by SKU: the diff, the lookup, categories, variations, images, the phases and their run."""
