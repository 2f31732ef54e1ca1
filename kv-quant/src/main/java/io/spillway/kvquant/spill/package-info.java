/**
 * The spill codec: a versioned, self-describing, streaming container for a quantized KV cache that a
 * worker spills to storage and any worker restores byte for byte. The cache decides what its sections
 * hold; the codec guarantees that a blob made for another model, method, calibration or format is
 * refused, and that damage or truncation is reported as a {@link io.spillway.kvquant.spill.SpillFormatException}
 * rather than decoded.
 *
 * <h2>Layout, format version 1</h2>
 * All integers big-endian; CRCs are CRC32C.
 * <pre>
 * header    "SPKV"                     4 bytes  magic
 *           version            int             container format version (1)
 *           manifestLength     int             0 .. 1 MiB
 *           manifest           bytes           see SpillManifest.encode
 *           manifestCrc        int             over the manifest bytes
 * section*  'S'                byte            tag
 *           nameLength         u16             1 .. 256
 *           name               UTF-8
 *           headerCrc          int             over tag, nameLength, name
 *           frame*             len int (1 .. 16 MiB), bytes, frameCrc int (over len and bytes)
 *           0                  int             terminator
 *           totalLength        long            content bytes of the section
 *           sectionCrc         int             over name and content
 * trailer   'E'                byte            tag
 *           sectionCount       int
 *           combinedCrc        int             over manifestCrc and each sectionCrc, in order (as 4 bytes each)
 * </pre>
 * Frame checks let a reader verify every byte before handing it out with one frame of memory
 * (writers use 64 KiB); the section and trailer checks catch lost, repeated, reordered or
 * spliced frames and sections.
 */
package io.spillway.kvquant.spill;
