// Every built-in layer.
#pragma once
#include "nn/layers/attention.h"
#include "nn/layers/conv.h"
#include "nn/layers/core.h"
#include "nn/layers/merge.h"
#include "nn/layers/normalization.h"
#include "nn/layers/recurrent.h"
