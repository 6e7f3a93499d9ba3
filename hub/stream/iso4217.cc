// The alphabetic codes of active ISO 4217 currencies, the ones a price can be stated in.
//
// Left out on purpose: fund and unit-of-account codes (BOV, CHE, CHW, CLF, COU, MXV, USN,
// UYI, UYW, XDR, XSU, XUA, XBA-XBD), precious metals (XAG, XAU, XPD, XPT), testing and "no
// currency" codes (XTS, XXX), and withdrawn currencies (HRK, VEF, MRO, STD, ...). Currencies
// in a changeover keep both codes while the old one is still legal tender (SLL and SLE, ZWL
// and ZWG, ANG and XCG; VES and VED circulate side by side). When ISO publishes an amendment,
// add or remove the code here, keeping the table in alphabetical order.
#include <algorithm>
#include <array>
#include <functional>
#include <string_view>

#include "stream/validate.h"

namespace fedhub::stream {
namespace {

constexpr std::array<std::string_view, 160> kActiveCurrencies = {
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN",  //
    "BAM", "BBD", "BDT", "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL",  //
    "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP", "CNY",  //
    "COP", "CRC", "CUC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",  //
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP",  //
    "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS",  //
    "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR",  //
    "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD",  //
    "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU",  //
    "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK",  //
    "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG",  //
    "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK",  //
    "SGD", "SHP", "SLE", "SLL", "SOS", "SRD", "SSP", "STN", "SVC", "SYP",  //
    "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS",  //
    "UAH", "UGX", "USD", "UYU", "UZS", "VED", "VES", "VND", "VUV", "WST",  //
    "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG", "ZWL",  //
};

// Binary search below relies on the order; duplicates would hide a typo.
static_assert(std::ranges::adjacent_find(kActiveCurrencies, std::greater_equal<>()) ==
                  kActiveCurrencies.end(),
              "kActiveCurrencies must be strictly increasing");

}  // namespace

bool IsActiveCurrency(std::string_view code) {
  return std::ranges::binary_search(kActiveCurrencies, code);
}

}  // namespace fedhub::stream
