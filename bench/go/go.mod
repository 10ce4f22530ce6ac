module tetherbench

go 1.19
