"""The learner's and the company's journey on the hub: the services home, links that start the
right session and open the right notebook, progress, the SME pathway and workshops."""
