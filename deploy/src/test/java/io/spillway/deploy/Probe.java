package io.spillway.deploy;
class Probe {}
