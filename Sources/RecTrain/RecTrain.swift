// RecTrain
