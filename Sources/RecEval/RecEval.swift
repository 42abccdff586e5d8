// RecEval
