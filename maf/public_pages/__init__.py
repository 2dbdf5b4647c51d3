"""The pages a public service must publish (the accessibility statement and the privacy
notice), readable by everyone, edited by an admin, every version kept."""
