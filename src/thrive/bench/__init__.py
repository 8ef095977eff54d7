"""`thrive bench`: Thrive measured against bare-library floors in the same run."""
