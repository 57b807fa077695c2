package objstore

// crc64Poly is the reflected CRC-64/ECMA-182 polynomial Go's crc64.ECMA
// table uses (CRC-64/XZ: reflected, initial value and final XOR all ones).
const crc64Poly = 0xC96C5795D7870F42

// crc64Combine returns the CRC-64/ECMA (crc64.ECMA, as OSS's
// x-oss-hash-crc64ecma) of A||B from crc1 = CRC(A), crc2 = CRC(B) and
// len2 = len(B), without the data.
func crc64Combine(crc1, crc2 uint64, len2 int64) uint64 {
	return crcCombine(crc64Poly, 64, crc1, crc2, len2)
}

// crcCombine returns CRC(A||B) from crc1 = CRC(A), crc2 = CRC(B) and
// len2 = len(B) for a reflected CRC of bits (32 or 64) with polynomial
// poly (reflected form) and all-ones initial value and final XOR: CRC-32,
// CRC-32C, CRC-64/ECMA (Go's) and CRC-64/NVME all are. It is zlib's
// crc32_combine generalised: appending len2 zero bits to A's register is a
// linear map over GF(2), computed by repeated squaring of the one-zero-bit
// operator; the initial and final inversions cancel out in the XOR with
// crc2.
func crcCombine(poly uint64, bits int, crc1, crc2 uint64, len2 int64) uint64 {
	if len2 <= 0 {
		return crc1
	}
	var even, odd [64]uint64
	odd[0] = poly // operator for one zero bit
	row := uint64(1)
	for n := 1; n < bits; n++ {
		odd[n] = row
		row <<= 1
	}
	gf2Square(&even, &odd, bits) // two zero bits
	gf2Square(&odd, &even, bits) // four zero bits
	for {
		gf2Square(&even, &odd, bits) // first pass: one zero byte
		if len2&1 != 0 {
			crc1 = gf2Times(&even, crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
		gf2Square(&odd, &even, bits)
		if len2&1 != 0 {
			crc1 = gf2Times(&odd, crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
	}
	return crc1 ^ crc2
}

func gf2Times(mat *[64]uint64, vec uint64) uint64 {
	var sum uint64
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat *[64]uint64, bits int) {
	for n := range bits {
		square[n] = gf2Times(mat, mat[n])
	}
}
